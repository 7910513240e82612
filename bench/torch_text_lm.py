#!/usr/bin/python3
"""The text language-model recipe of docs/language-models.md in PyTorch, as a cross-check.

Trains torch_gpt_step.py's CausalLM (tied output embedding, as --tie-output) on a text file
with attnlab's data rules (data/text_corpus.hpp): characters in order of first appearance, the
first 90% trains, the next 5% validates; random training windows of --block characters; the
validation loss over the same evenly spaced, non-overlapping windows attnlab evaluates. The
optimiser is attnlab's: AdamW on every parameter (lr 1e-3, weight decay 0.1, betas 0.9 and
0.99), linear warmup then cosine decay to --lr-min, gradient clipping at 1. Prints one JSON line
with the validation loss every --eval-every steps and the wall time.

Example:
  /usr/bin/python3 bench/torch_text_lm.py moby-dick.txt --steps 2000
"""
import argparse, json, math, os, sys, time

p = argparse.ArgumentParser()
p.add_argument("text")
p.add_argument("--block", type=int, default=64)
p.add_argument("--batch", type=int, default=12)
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--layers", type=int, default=4)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--d-model", type=int, default=128)
p.add_argument("--ff", type=int, default=512)
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--lr-min", type=float, default=1e-4)
p.add_argument("--warmup", type=int, default=100)
p.add_argument("--eval-every", type=int, default=250)
p.add_argument("--eval-examples", type=int, default=500)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
text = open(a.text, encoding="utf-8").read()
chars = list(dict.fromkeys(text))
index = {c: i for i, c in enumerate(chars)}
ids = torch.tensor([index[c] for c in text])
n = len(ids)
train_end, valid_end = n * 9 // 10, n * 19 // 20


class CausalLM(nn.Module):
    def __init__(self, V):
        super().__init__()
        self.tok_emb = nn.Embedding(V, a.d_model)
        self.pos = nn.Parameter(torch.randn(1, a.block, a.d_model) * 0.02)
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(a.d_model, a.heads, a.ff, 0.0, activation="gelu",
                                                                batch_first=True, norm_first=True)
                                     for _ in range(a.layers)])
        self.norm = nn.LayerNorm(a.d_model)
        self.out = nn.Linear(a.d_model, V)
        self.out.weight = self.tok_emb.weight
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(a.block), persistent=False)

    def forward(self, x):
        h = self.tok_emb(x) + self.pos[:, : x.shape[1]]
        for layer in self.layers:
            h = layer(h, src_mask=self.causal[: x.shape[1], : x.shape[1]])
        return self.out(self.norm(h))


def windows(begin, end, count):
    fit = (end - begin - 1) // a.block
    take = min(count, fit)
    starts = [begin + (k * fit // take) * a.block for k in range(take)]
    return torch.stack([ids[s:s + a.block] for s in starts]), torch.stack([ids[s + 1:s + a.block + 1] for s in starts])


model = CausalLM(len(chars))
opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.99), weight_decay=0.1)
loss_fn = nn.CrossEntropyLoss()
vx, vy = windows(train_end, valid_end, a.eval_examples)


def lr_at(step):
    s = step + 1
    if s < a.warmup:
        return a.lr * s / a.warmup
    done = min(1.0, (s - a.warmup) / max(1, a.steps - a.warmup))
    return a.lr_min + (a.lr - a.lr_min) * 0.5 * (1 + math.cos(math.pi * done))


def valid_loss():
    model.eval()
    with torch.no_grad():
        losses = [loss_fn(model(vx[i:i + 100]).reshape(-1, len(chars)), vy[i:i + 100].reshape(-1)) * len(vx[i:i + 100])
                  for i in range(0, len(vx), 100)]
    model.train()
    return float(sum(losses) / len(vx))


g = torch.Generator().manual_seed(a.seed)
evals, t0 = [], time.perf_counter()
for step in range(a.steps):
    for group in opt.param_groups:
        group["lr"] = lr_at(step)
    starts = torch.randint(0, train_end - a.block, (a.batch,), generator=g)
    x = torch.stack([ids[s:s + a.block] for s in starts])
    y = torch.stack([ids[s + 1:s + a.block + 1] for s in starts])
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x).reshape(-1, len(chars)), y.reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
        evals.append({"step": step + 1, "val_loss": valid_loss(), "train_loss": float(loss)})
        print(json.dumps(evals[-1]), file=sys.stderr)
print(json.dumps({"impl": "pytorch-" + torch.__version__, "params": sum(p.numel() for p in model.parameters()),
                  "wall_seconds": time.perf_counter() - t0, "evals": evals, "config": vars(a)}))
