#!/usr/bin/python3
"""Collects run.sh's runs (OUT/MODEL-lrLR/summary.json): every run, marking each model's learning
rate picked on validation (lowest best_val_loss), as CSV on stdout. With --plot PNG, also draws
the chosen runs' validation loss over the labels with a distance (dependent_loss) against the
training step, beside the memoryless baseline given by --baseline NATS, with gnuplot.

Usage: collect.py OUT [--plot PNG --baseline NATS --title TEXT] > results.csv
"""
import csv
import json
import pathlib
import subprocess
import sys
import tempfile


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


def option(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def val_curve(run_dir):
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        j = json.loads(line)
        if "val_dependent_loss" in j:
            yield j["step"], j["val_dependent_loss"]


def plot(out, chosen, png, baseline, title):
    with tempfile.TemporaryDirectory() as tmp:
        curves = []
        for r in chosen:
            f = pathlib.Path(tmp) / (r["model"] + ".dat")
            f.write_text("".join(f"{s} {v}\n" for s, v in val_curve(pathlib.Path(out) / f"{r['model']}-lr{r['lr']}")))
            curves.append(f"'{f}' with linespoints title '{r['model']} (lr {r['lr']})'")
        if baseline:
            curves.append(f"{baseline} with lines dashtype 2 lc rgb 'black' title 'memoryless baseline'")
        script = (f"set terminal pngcairo size 800,500; set output '{png}'; set title '{title}';"
                  "set xlabel 'training step'; set ylabel 'validation loss at the symbols (nats)'; set key outside;"
                  "set yrange [0:*]; plot " + ", ".join(curves))
        subprocess.run(["gnuplot", "-e", script], check=True)


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
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
    if option("--plot"):
        plot(sys.argv[1], list(best.values()), option("--plot"), option("--baseline"), option("--title", ""))


if __name__ == "__main__":
    main()
