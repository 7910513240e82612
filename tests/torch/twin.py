#!/usr/bin/python3
"""PyTorch twin of attnlab's models, for the parity test (tests/models/test_torch_parity.cpp).

Usage: twin.py CHECKPOINT BATCH_JSON OUT [--dtype f64|f32]

Builds the model that the checkpoint's metadata describes out of PyTorch modules
(nn.Transformer for "transformer"; nn.LSTM, nn.GRU or nn.RNN for "lstm", "gru", "rnn" and
their "-attn" variants), loads the
checkpoint's tensors with load_state_dict(strict=True) after reading them with numpy alone,
runs one training-mode forward and backward on the batch (cross-entropy with ignore_index),
and writes the logits, the loss and every parameter's gradient ("grad.<name>") to OUT as a
float64 safetensors file.
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

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


class Seq2Seq(nn.Transformer):
    """The reference model (torch_train_step.py's Seq2Seq), taking padding masks."""

    def __init__(self, c):
        super().__init__(d_model=c["d_model"], nhead=c["heads"], num_encoder_layers=c["enc_layers"],
                         num_decoder_layers=c["dec_layers"], dim_feedforward=c["ff"], dropout=c["dropout"],
                         activation=c["activation"], batch_first=True, norm_first=c["norm_first"])
        self.src_emb = nn.Embedding(c["src_vocab"], c["d_model"])
        self.tgt_emb = nn.Embedding(c["tgt_vocab"], c["d_model"])
        self.pos = nn.Parameter(torch.randn(1, c["max_len"], c["d_model"]) * 0.02)
        self.out = nn.Linear(c["d_model"], c["tgt_vocab"])

    def forward(self, src, tgt_in, src_pad):
        s = self.src_emb(src) + self.pos[:, : src.shape[1]]
        t = self.tgt_emb(tgt_in) + self.pos[:, : tgt_in.shape[1]]
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1]).to(s.dtype)
        h = super().forward(s, t, tgt_mask=causal, src_key_padding_mask=src_pad,
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


def main():
    ckpt, batch_path, out_path = sys.argv[1:4]
    dtype = torch.float64 if "--dtype" not in sys.argv or sys.argv[sys.argv.index("--dtype") + 1] == "f64" else torch.float32
    torch.set_num_threads(1)
    tensors, meta = read_safetensors(ckpt)
    c = json.loads(meta["model"])
    model = Seq2Seq(c) if c["type"] == "transformer" else RecurrentSeq2Seq(c)
    model.to(dtype)  # first: loading into float32 parameters would round float64 weights
    model.load_state_dict({k: torch.tensor(np.array(v)) for k, v in tensors.items()}, strict=True)
    model.train()
    b = json.load(open(batch_path))
    B, S, T = b["batch"], b["src_len"], b["tgt_len"]
    src = torch.tensor(b["src"]).reshape(B, S)
    tgt_in = torch.tensor(b["tgt_in"]).reshape(B, T)
    targets = torch.tensor(b["targets"])
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
