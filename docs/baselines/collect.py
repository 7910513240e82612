#!/usr/bin/python3
"""Collects run_copy_memory.sh's runs (or any OUT/MODEL-lrLR/summary.json): every run, then each
model's learning rate picked on validation (lowest best_val_loss), as CSV on stdout.

Usage: collect.py OUT > results.csv
"""
import csv
import json
import pathlib
import sys


def runs(out):
    for s in sorted(pathlib.Path(out).glob("*-lr*/summary.json")):
        model, _, lr = s.parent.name.rpartition("-lr")
        j = json.loads(s.read_text())
        yield {"model": model, "lr": lr, "seed": j["seed"], "steps": j["steps"], "params": j["params"],
               "best_step": j["best_step"], "val_loss": j["best_val_loss"],
               "val_sequence_accuracy": j["best_val_sequence_accuracy"],
               "test_sequence_accuracy": j["test_sequence_accuracy"],
               "test_sequence_accuracy_ci": "[{:.4f}, {:.4f}]".format(*j["test_sequence_accuracy_ci"]),
               "test_token_accuracy": j["test_token_accuracy"], "test_loss": j["test_loss"],
               "test_dependent_loss": j.get("test_dependent_loss", ""), "wall_seconds": round(j["wall_seconds"], 1)}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = list(runs(sys.argv[1]))
    if not rows:
        sys.exit(f"collect.py: no OUT/MODEL-lrLR/summary.json under {sys.argv[1]}")
    best = {}
    for r in rows:
        if r["model"] not in best or r["val_loss"] < best[r["model"]]["val_loss"]:
            best[r["model"]] = r
    w = csv.DictWriter(sys.stdout, fieldnames=["chosen_on_validation"] + list(rows[0].keys()))
    w.writeheader()
    for r in rows:
        w.writerow({"chosen_on_validation": int(best[r["model"]] is r), **r})


if __name__ == "__main__":
    main()
