#!/usr/bin/python3
"""PyTorch CPU reference: time training steps of a decoder-only (causal LM) Transformer.

The yardstick for attnlab's decoder-only model, run on the same machine with the same shapes.
Needs Debian's python3-torch; run with /usr/bin/python3. Prints one JSON line, with the same keys
as torch_train_step.py.

The model (class CausalLM below) defines what "the same model" means:
  - a token embedding `tok_emb` of --vocab rows and a learned position table `pos` of shape
    [1, --seq-len, d_model], added, not scaled;
  - --layers pre-LN blocks, each nn.TransformerEncoderLayer(norm_first=True, activation GELU
    (exact, erf), batch_first=True) under a causal mask: x += attn(ln1(x)); x += mlp(ln2(x));
  - a final LayerNorm `norm` and an output Linear `out` with bias (not tied to the embedding).
State-dict names: tok_emb.weight, pos, layers.0.self_attn.in_proj_weight, ...,
layers.0.linear1.weight, layers.0.norm1.weight, ..., norm.weight, norm.bias, out.weight, out.bias.
Defaults are nanoGPT's CPU recipe (4 layers, 4 heads, d_model 128, block 64, batch 12), with ff 4*d.

The timed span of one step is: zero the gradients, forward, loss over every position, backward,
Adam step (lr 1e-3). The batch is random tokens; the target is the input shifted left by one.
Only shapes matter for timing.

(attnlab keeps its own copy of the yardstick so that bench/compare runs from a clean clone.)

Example:
  /usr/bin/python3 torch_gpt_step.py --d-model 128 --heads 4 --ff 512 --layers 4 \
      --batch 12 --seq-len 64 --vocab 65 --steps 30 --threads 2
"""
import argparse, json, os, resource, statistics, time


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ff", type=int, default=512)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=30, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


a = parse()
# As in torch_train_step.py: threads and OpenBLAS kernels fixed before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
try:
    flags = open("/proc/cpuinfo").read()
    os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX" if " avx512f" in flags else "Haswell" if " avx2" in flags else "")
except OSError:
    pass

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


class CausalLM(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.tok_emb = nn.Embedding(a.vocab, a.d_model)
        self.pos = nn.Parameter(torch.randn(1, a.seq_len, a.d_model) * 0.02)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(a.d_model, a.heads, a.ff, a.dropout, activation="gelu",
                                       batch_first=True, norm_first=True)
            for _ in range(a.layers)])
        self.norm = nn.LayerNorm(a.d_model)
        self.out = nn.Linear(a.d_model, a.vocab)
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(a.seq_len),
                             persistent=False)

    def forward(self, x):
        h = self.tok_emb(x) + self.pos[:, : x.shape[1]]
        for layer in self.layers:
            h = layer(h, src_mask=self.causal[: x.shape[1], : x.shape[1]])
        return self.out(self.norm(h))


def main():
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = CausalLM(a)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    seq = torch.randint(0, a.vocab, (a.batch, a.seq_len + 1))
    x, y = seq[:, :-1], seq[:, 1:]

    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = loss_fn(logits.reshape(-1, a.vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(dt)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({
        "impl": "pytorch-" + torch.__version__, "threads": a.threads,
        "params": params, "ms_per_step_median": 1e3 * statistics.median(times),
        "ms_per_step_min": 1e3 * min(times), "final_loss": float(loss),
        "tokens_per_s": a.batch * a.seq_len / statistics.median(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "env": {k: os.environ.get(k, "") for k in
                ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OMP_WAIT_POLICY")},
        "config": vars(a)}))


if __name__ == "__main__":
    main()
