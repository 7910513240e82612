#!/usr/bin/python3
"""PyTorch twin of attnlab's models, for the parity test (tests/models/test_torch_parity.cpp).

Usage: twin.py CHECKPOINT BATCH_JSON OUT [--dtype f64|f32]

Builds the model that the checkpoint's metadata describes out of PyTorch modules
(nn.Transformer for "transformer"; nn.TransformerEncoderLayer under a causal mask for "gpt";
nn.LSTM, nn.GRU or nn.RNN for "lstm", "gru", "rnn" and their "-attn" variants, encoder-decoders
or, with "format": "lm", one stack over the stream; mamba_twin.py's sequential scan for "mamba"),
loads the
checkpoint's tensors with load_state_dict(strict=True) after reading them with numpy alone,
runs one training-mode forward and backward on the batch (cross-entropy with ignore_index),
and writes the logits, the loss and every parameter's gradient ("grad.<name>") to OUT as a
float64 safetensors file.
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from mamba_twin import MambaLM

DTYPES = {"F32": np.float32, "F64": np.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        tensors[name] = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return tensors, meta


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def rotate_half(x, heads, base):
    """RoPE with the rotate-half pairing: pair (i, i + Dh/2) of each head turns by p base^(-2i/Dh)."""
    B, T, D = x.shape
    Dh = D // heads
    theta = base ** (-2.0 * torch.arange(Dh // 2, dtype=torch.float64) / Dh)
    angle = torch.arange(T, dtype=torch.float64)[:, None] * theta[None, :]
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x = x.reshape(B, T, heads, Dh)
    x1, x2 = x[..., : Dh // 2], x[..., Dh // 2:]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], -1).reshape(B, T, D)


class RopeLayer(nn.TransformerEncoderLayer):
    """nn.TransformerEncoderLayer whose self-attention rotates q and k (written out: nn.MultiheadAttention cannot)."""

    def __init__(self, base, *args, **kw):
        super().__init__(*args, **kw)
        self.base = base

    def _sa_block(self, x, attn_mask, key_padding_mask):
        a = self.self_attn
        H, (B, T, D) = a.num_heads, x.shape
        q, k, v = F.linear(x, a.in_proj_weight, a.in_proj_bias).chunk(3, -1)
        q, k = rotate_half(q, H, self.base), rotate_half(k, H, self.base)
        split = lambda t: t.reshape(B, T, H, D // H).transpose(1, 2)
        s = split(q) @ split(k).transpose(-1, -2) / math.sqrt(D // H)
        if attn_mask is not None:
            s = s + attn_mask
        if key_padding_mask is not None:
            s = s.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        o = (s.softmax(-1) @ split(v)).transpose(1, 2).reshape(B, T, D)
        return self.dropout1(a.out_proj(o))


def alibi_slopes(n):
    """get_slopes of ofirpress/attention_with_linear_biases."""
    def power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]
    if math.log2(n).is_integer():
        return power_of_2(n)
    p = 2 ** math.floor(math.log2(n))
    return power_of_2(p) + alibi_slopes(2 * p)[0::2][: n - p]


class TiedOut(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(vocab))


class CausalLM(nn.Module):
    """reference/torch_gpt_step.py's CausalLM, with attnlab's options: positions (learned,
    sinusoidal, rope, alibi, none), norm_first, activation, tie_output, and a key-padding mask."""

    def __init__(self, c):
        super().__init__()
        d, self.heads, self.kind = c["d_model"], c["heads"], c["pos"]
        self.tok_emb = nn.Embedding(c["tgt_vocab"], d)
        if self.kind == "learned":
            self.pos = nn.Parameter(torch.randn(1, c["max_len"], d) * 0.02)
        args = (d, c["heads"], c["ff"], c["dropout"], c["activation"])
        kw = dict(batch_first=True, norm_first=c["norm_first"])
        self.layers = nn.ModuleList([RopeLayer(c["rope_base"], *args, **kw) if self.kind == "rope" else
                                     nn.TransformerEncoderLayer(*args, **kw) for _ in range(c["layers"])])
        self.norm = nn.LayerNorm(d)
        self.out = TiedOut(c["tgt_vocab"]) if c["tie_output"] else nn.Linear(d, c["tgt_vocab"])

    def forward(self, x, pad):
        B, T = x.shape
        h = self.tok_emb(x)
        if self.kind == "learned":
            h = h + self.pos[:, :T]
        if self.kind == "sinusoidal":
            p = torch.arange(T, dtype=torch.float64)[:, None]
            i = torch.arange(0, h.shape[-1], 2, dtype=torch.float64)
            pe = torch.zeros(T, h.shape[-1], dtype=torch.float64)
            pe[:, 0::2], pe[:, 1::2] = torch.sin(p / 10000 ** (i / h.shape[-1])), torch.cos(p / 10000 ** (i / h.shape[-1]))
            h = h + pe.to(h.dtype)
        mask = nn.Transformer.generate_square_subsequent_mask(T).to(h.dtype)
        if self.kind == "alibi":  # a float mask is added to the scaled scores: -m_h (i - j), per (batch, head)
            dist = (torch.arange(T)[:, None] - torch.arange(T)[None, :]).to(h.dtype)
            m = torch.tensor(alibi_slopes(self.heads), dtype=h.dtype)
            mask = (mask[None] - m[:, None, None] * dist[None]).repeat(B, 1, 1)
        for layer in self.layers:
            h = layer(h, src_mask=mask, src_key_padding_mask=pad)
        h = self.norm(h)
        return F.linear(h, self.tok_emb.weight, self.out.bias) if isinstance(self.out, TiedOut) else self.out(h)


class RopeDecoderLayer(nn.TransformerDecoderLayer):
    """nn.TransformerDecoderLayer whose self-attention (not its cross-attention) rotates q and k."""

    def __init__(self, base, *args, **kw):
        super().__init__(*args, **kw)
        self.base = base

    _sa_block = RopeLayer._sa_block


def alibi_mask(slopes, Tq, Tk, B, causal, dtype):
    """A float mask added to the scaled scores, [B*H, Tq, Tk]: -m_h |i - j|, -inf above the diagonal if causal."""
    dist = (torch.arange(Tq)[:, None] - torch.arange(Tk)[None, :]).abs().to(dtype)
    m = torch.tensor(slopes, dtype=dtype)
    mask = -m[:, None, None] * dist[None]
    if causal:
        mask = mask + nn.Transformer.generate_square_subsequent_mask(Tq).to(dtype)[None]
    return mask.repeat(B, 1, 1)


class Seq2Seq(nn.Transformer):
    """The reference model (torch_train_step.py's Seq2Seq), taking padding masks; with --pos rope
    or alibi, no table and those positions in the encoder's and decoder's self-attention."""

    def __init__(self, c):
        d, H, self.kind = c["d_model"], c["heads"], c["pos"]
        custom = {}
        if self.kind == "rope":
            args = (d, H, c["ff"], c["dropout"], c["activation"])
            kw = dict(batch_first=True, norm_first=c["norm_first"])
            custom = dict(custom_encoder=nn.TransformerEncoder(RopeLayer(c["rope_base"], *args, **kw), c["enc_layers"],
                                                               nn.LayerNorm(d)),
                          custom_decoder=nn.TransformerDecoder(RopeDecoderLayer(c["rope_base"], *args, **kw),
                                                               c["dec_layers"], nn.LayerNorm(d)))
        super().__init__(d_model=d, nhead=H, num_encoder_layers=c["enc_layers"],
                         num_decoder_layers=c["dec_layers"], dim_feedforward=c["ff"], dropout=c["dropout"],
                         activation=c["activation"], batch_first=True, norm_first=c["norm_first"], **custom)
        self.src_emb = nn.Embedding(c["src_vocab"], d)
        self.tgt_emb = nn.Embedding(c["tgt_vocab"], d)
        if self.kind == "learned":
            self.pos = nn.Parameter(torch.randn(1, c["max_len"], d) * 0.02)
        self.slopes = alibi_slopes(H)
        self.out = nn.Linear(d, c["tgt_vocab"])

    def forward(self, src, tgt_in, src_pad):
        (B, S), T = src.shape, tgt_in.shape[1]
        s, t = self.src_emb(src), self.tgt_emb(tgt_in)
        if self.kind == "learned":
            s, t = s + self.pos[:, :S], t + self.pos[:, :T]
        causal = nn.Transformer.generate_square_subsequent_mask(T).to(s.dtype)
        src_mask = None
        if self.kind == "alibi":
            src_mask = alibi_mask(self.slopes, S, S, B, False, s.dtype)
            causal = alibi_mask(self.slopes, T, T, B, True, s.dtype)
        h = super().forward(s, t, src_mask=src_mask, tgt_mask=causal, src_key_padding_mask=src_pad,
                            memory_key_padding_mask=src_pad)
        return self.out(h)


CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}  # nn.RNN's default nonlinearity is tanh


class RecurrentSeq2Seq(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c["hidden"]
        kind, _, attn = c["type"].partition("-")
        self.src_emb = nn.Embedding(c["src_vocab"], H)
        self.tgt_emb = nn.Embedding(c["tgt_vocab"], H)
        self.encoder = CELLS[kind](H, H, c["layers"], batch_first=True, dropout=c["dropout"])
        self.decoder = CELLS[kind](H, H, c["layers"], batch_first=True, dropout=c["dropout"])
        self.attn = nn.MultiheadAttention(H, c["heads"], batch_first=True) if attn == "attn" else None
        self.out = nn.Linear(H, c["tgt_vocab"])

    def forward(self, src, tgt_in, src_pad):
        lengths = (~src_pad).sum(1)
        packed = pack_padded_sequence(self.src_emb(src), lengths, batch_first=True, enforce_sorted=False)
        enc, state = self.encoder(packed)
        enc, _ = pad_packed_sequence(enc, batch_first=True, total_length=src.shape[1])
        dec, _ = self.decoder(self.tgt_emb(tgt_in), state)
        if self.attn is not None:
            dec = dec + self.attn(dec, enc, enc, key_padding_mask=src_pad, need_weights=False)[0]
        return self.out(dec)


class RecurrentLM(nn.Module):
    """attnlab's RecurrentLM (format lm): embedding, a stacked cell, output layer, over one stream."""

    def __init__(self, c):
        super().__init__()
        H = c["hidden"]
        self.embedding = nn.Embedding(c["tgt_vocab"], H)
        self.rnn = CELLS[c["type"]](H, H, c["layers"], batch_first=True, dropout=c["dropout"])
        self.out = nn.Linear(H, c["tgt_vocab"])

    def forward(self, tokens, pad):  # right padding: a recurrence reads left to right
        return self.out(self.rnn(self.embedding(tokens))[0])


def make_twin(c):
    if c["type"] in CELLS and c.get("format") == "lm":
        return RecurrentLM(c)
    return {"transformer": Seq2Seq, "gpt": CausalLM, "mamba": MambaLM}.get(c["type"], RecurrentSeq2Seq)(c)


def main():
    ckpt, batch_path, out_path = sys.argv[1:4]
    dtype = torch.float64 if "--dtype" not in sys.argv or sys.argv[sys.argv.index("--dtype") + 1] == "f64" else torch.float32
    torch.set_num_threads(1)
    tensors, meta = read_safetensors(ckpt)
    c = json.loads(meta["model"])
    model = make_twin(c)
    model.to(dtype)  # first: loading into float32 parameters would round float64 weights
    model.load_state_dict({k: torch.tensor(np.array(v)) for k, v in tensors.items()}, strict=True)
    model.train()
    b = json.load(open(batch_path))
    B, S, T, L = b["batch"], b["src_len"], b["tgt_len"], b.get("len", 0)
    targets = torch.tensor(b["targets"])
    if L > 0:  # one stream per row (format lm)
        pad = torch.tensor(b["tokens_pad"], dtype=torch.bool).reshape(B, L)
        logits = model(torch.tensor(b["tokens"]).reshape(B, L), pad)
    else:
        src = torch.tensor(b["src"]).reshape(B, S)
        tgt_in = torch.tensor(b["tgt_in"]).reshape(B, T)
        src_pad = torch.tensor(b["src_pad"], dtype=torch.bool).reshape(B, S)
        logits = model(src, tgt_in, src_pad)
    loss = nn.CrossEntropyLoss(ignore_index=b["ignore_index"], label_smoothing=b["label_smoothing"])(
        logits.reshape(-1, logits.shape[-1]), targets)
    loss.backward()
    out = {"logits": logits.detach().double().numpy(), "loss": np.array([loss.item()])}
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad.double().numpy()
    write_safetensors(out_path, out)


if __name__ == "__main__":
    main()
