#!/usr/bin/python3
"""PyTorch reference for attnlab's optimisers, for tests/train/test_optim.cpp.

Usage: optim_ref.py CASES_JSON OUT_JSON

CASES_JSON holds the initial parameters ("params": name, shape, value), the gradients of every
step ("grads": one {name: values} per step) and the cases ("cases": id, optimizer adam|adamw|sgd,
lrs (one per step), weight_decay, betas, eps, momentum, max_norm; max_norm 0 means no clipping).
For each case, in float64, it sets each parameter's .grad to the step's gradient, calls
torch.nn.utils.clip_grad_norm_ when max_norm > 0, sets the learning rate and steps
torch.optim.Adam, AdamW or SGD. OUT_JSON gets, per case id, the parameters after every step
("params": one {name: values} per step) and the norms clip_grad_norm_ returned ("norms").
JSON floats round-trip exactly both ways (repr and correctly rounded parsing).
"""
import json
import sys

import torch


def make_optimizer(case, params):
    lr = case["lrs"][0]
    wd = case["weight_decay"]
    if case["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=case["momentum"], weight_decay=wd)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[case["optimizer"]]
    return cls(params, lr=lr, betas=tuple(case["betas"]), eps=case["eps"], weight_decay=wd)


def run_case(case, init, grads):
    params = {p["name"]: torch.tensor(p["value"], dtype=torch.float64).reshape(p["shape"]).requires_grad_()
              for p in init}
    opt = make_optimizer(case, list(params.values()))
    out = {"params": [], "norms": []}
    for lr, g in zip(case["lrs"], grads):
        for name, p in params.items():
            p.grad = torch.tensor(g[name], dtype=torch.float64).reshape(p.shape)
        if case["max_norm"] > 0:
            out["norms"].append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), case["max_norm"])))
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        out["params"].append({name: p.detach().reshape(-1).tolist() for name, p in params.items()})
    return out


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    results = {c["id"]: run_case(c, spec["params"], spec["grads"]) for c in spec["cases"]}
    with open(sys.argv[2], "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
