#!/usr/bin/python3
"""PyTorch CPU reference: time training steps of an encoder-decoder Transformer.

(attnlab keeps its own copy of the yardstick so that bench/compare runs from a clean clone.)

The yardstick for attnlab's own training-step speed, run on the same machine with the same
shapes. Needs Debian's python3-torch (apt-get install python3-torch); run with /usr/bin/python3.
Prints one JSON line with the median milliseconds per step.

The model (class Seq2Seq below) defines what "the same model" means for `attnlab bench`:
  - a pre-LN nn.Transformer (norm_first=True, ReLU, final LayerNorm on encoder and decoder);
  - separate source and target embeddings of --vocab rows, not scaled by sqrt(d);
  - ONE learned position table `pos`, shape [1, max(src_len, tgt_len), d_model], shared by both sides;
  - an output Linear `out` with bias.
Its state_dict names are the checkpoint names attnlab uses: encoder.layers.0.self_attn.in_proj_weight,
..., decoder.norm.bias, src_emb.weight, tgt_emb.weight, pos, out.weight, out.bias.
Parameter counts: S (defaults) 240,912; M 948,752; L 5,608,464.

The timed span of one step is: zero the gradients, forward, loss, backward, optimiser step.
The batch is a copy task: target = source (random tokens in [2, vocab)), decoder input shifted
right behind token 1. Only shapes matter for timing; final_loss is comparable only loosely.

Example:
  /usr/bin/python3 torch_train_step.py --d-model 64 --heads 4 --ff 256 \
      --enc-layers 2 --dec-layers 2 --batch 32 --src-len 64 --tgt-len 64 \
      --vocab 16 --steps 30 --threads 2
"""
import argparse, json, os, resource, statistics, time


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ff", type=int, default=256)
    p.add_argument("--enc-layers", type=int, default=2)
    p.add_argument("--dec-layers", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--src-len", type=int, default=64)
    p.add_argument("--tgt-len", type=int, default=64)
    p.add_argument("--vocab", type=int, default=16)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=30, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


a = parse()
# Thread pools and BLAS kernels are fixed before torch loads, so that every library inside it
# (OpenMP, OpenBLAS) sees the same thread count, and OpenBLAS 0.3.21 uses its AVX-512 kernels on
# CPUs it does not recognise. A value already set in the environment is kept.
os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
try:
    flags = open("/proc/cpuinfo").read()
    os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX" if " avx512f" in flags else "Haswell" if " avx2" in flags else "")
except OSError:
    pass

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


class Seq2Seq(nn.Transformer):
    def __init__(self, a):
        super().__init__(d_model=a.d_model, nhead=a.heads, num_encoder_layers=a.enc_layers,
                         num_decoder_layers=a.dec_layers, dim_feedforward=a.ff, dropout=a.dropout,
                         batch_first=True, norm_first=True)
        self.src_emb = nn.Embedding(a.vocab, a.d_model)
        self.tgt_emb = nn.Embedding(a.vocab, a.d_model)
        self.pos = nn.Parameter(torch.randn(1, max(a.src_len, a.tgt_len), a.d_model) * 0.02)
        self.out = nn.Linear(a.d_model, a.vocab)
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(a.tgt_len),
                             persistent=False)

    def forward(self, src, tgt_in):
        s = self.src_emb(src) + self.pos[:, : src.shape[1]]
        t = self.tgt_emb(tgt_in) + self.pos[:, : tgt_in.shape[1]]
        h = super().forward(s, t, tgt_mask=self.causal)
        return self.out(h)


def main():
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Seq2Seq(a)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    src = torch.randint(2, a.vocab, (a.batch, a.src_len))
    tgt = src[:, : a.tgt_len] if a.tgt_len <= a.src_len else torch.randint(2, a.vocab, (a.batch, a.tgt_len))
    tgt_in = torch.cat([torch.ones(a.batch, 1, dtype=torch.long), tgt[:, :-1]], dim=1)

    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = model(src, tgt_in)
        loss = loss_fn(logits.reshape(-1, a.vocab), tgt.reshape(-1))
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
        "tokens_per_s": a.batch * a.tgt_len / statistics.median(times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "env": {k: os.environ.get(k, "") for k in
                ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OMP_WAIT_POLICY")},
        "config": vars(a)}))


if __name__ == "__main__":
    main()
