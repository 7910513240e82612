#!/usr/bin/env python3
"""Writes E7's report.md from the files run.sh leaves (docs/study.md, E7).

Usage: examples/e7_mechanism/summarise.py DIR DELAY   (DIR holds runs/, attention/, ablate/)
Every number in the report is read from DIR; nothing is typed in by hand.
"""
import csv
import glob
import json
import os
import sys

MODELS = ["gpt", "lstm-chrono", "lstm", "gru", "mamba"]


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def spread(xs):
    return f"{sum(xs) / len(xs):.4f} [{min(xs):.4f}, {max(xs):.4f}]"


def run_dirs(root, model, delay):
    return sorted(glob.glob(os.path.join(root, "runs", f"{model}_{delay}_seed*_*")))


def at(table, step, key, value, column):
    for r in table:
        if r["step"] == str(step) and r[key] == str(value):
            return float(r[column])
    return float("nan")


def gradient_table(root, delay, source):
    out = ["| model | test seq acc (each seed) | saliency at the source, step 0 | at step 500 | saliency at distance 40, step 500 | state gradient at lag %d relative to lag 0, step 0 | at step 500 |" % source,
           "|---|---|---|---|---|---|---|"]
    for m in MODELS:
        dirs = run_dirs(root, m, delay)
        acc = [json.load(open(os.path.join(d, "summary.json")))["test_sequence_accuracy"] for d in dirs]
        g = [rows(os.path.join(d, "probes", "gradflow.csv")) for d in dirs]
        s0 = [at(t, 0, "distance", source, "saliency") for t in g]
        s5 = [at(t, 500, "distance", source, "saliency") for t in g]
        s40 = [at(t, 500, "distance", 40, "saliency") for t in g]
        cells = [", ".join(f"{a:.3f}" for a in acc), spread(s0), spread(s5), spread(s40)]
        state = [os.path.join(d, "probes", "gradflow_state.csv") for d in dirs]
        if all(os.path.exists(p) for p in state):
            st = [[r for r in rows(p) if r["layer"] == "0"] for p in state]
            cells += [spread([at(t, 0, "lag", source, "relative") for t in st]),
                      spread([at(t, 500, "lag", source, "relative") for t in st])]
        else:
            cells += ["-", "-"]
        out.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def attention_table(root):
    out = ["| gpt seed | source mass, best head (layer.head) | source mass summed over layer 1's heads | heads whose ablation drops sequence accuracy below 0.5 |",
           "|---|---|---|---|"]
    for seed in range(1, 6):
        att = rows(os.path.join(root, "attention", f"seed{seed}", "attention.csv"))
        best = max(att, key=lambda r: float(r["source_mass"]))
        last = max(int(r["layer"]) for r in att)
        total = sum(float(r["source_mass"]) for r in att if int(r["layer"]) == last)
        abl = rows(os.path.join(root, "ablate", f"seed{seed}", "ablate.csv"))
        vital = [f'{r["layer"]}.{r["head"]} ({float(r["sequence_accuracy"]):.3f})' for r in abl
                 if r["head"] != "-1" and float(r["sequence_accuracy"]) < 0.5]
        out.append(f'| {seed} | {float(best["source_mass"]):.3f} ({best["layer"]}.{best["head"]}) | {total:.3f} | '
                   + (", ".join(vital) or "none") + " |")
    return "\n".join(out)


def main():
    root, delay = sys.argv[1], int(sys.argv[2])
    source = delay + 10  # copy memory's aligned layout: every label's source is T + N back (N = 10)
    md = f"""# E7 on copy memory at delay {delay}: the probes beside the accuracies

Written by examples/e7_mechanism/summarise.py from this folder. The runs are E1's committed runs at
delay {delay}, retrained from their own config.json with `--probe-every 250`; run.sh checked that every
retrained test sequence accuracy equals the committed one. Saliency is the fraction of a label's
input gradient at one position (docs/probes.md), recorded on 16 validation examples at steps 0, 250 and
500; each cell is the mean over 5 seeds [lowest, highest]. A uniform spread over a label's inputs
would put 1/(j + 1) at each, {1 / (source + 10):.4f} to {1 / (source + 1):.4f} for these labels (j = {source} to {source + 9}). Every label's true source is {source}
positions back.

{gradient_table(root, delay, source)}

Attention of the trained gpt (best checkpoints, 16 test examples; ablation over 200 test examples):

{attention_table(root)}

![input saliency by distance, seed 1 of each model](gradflow/gradflow.png)

![gpt seed 1: attention on the true source, per head](attention/seed1/attention_source_mass.png)

![gpt seed 1: head ablation](ablate/seed1/ablate.png)
"""
    with open(os.path.join(root, "report.md"), "w") as f:
        f.write(md)
    print(f"wrote {root}/report.md")


if __name__ == "__main__":
    main()
