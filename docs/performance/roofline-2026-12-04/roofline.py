#!/usr/bin/env python3
"""The roofline table of docs/performance.md ("Where the targets sit against the gemm work").

Reads this directory's ceil_<kind>_<config>_<pass>.json (attnlab bench --gemm-profile) and
compare_<kind>.json (bench/compare --json), and prints, per kind and config: the ratio target, the
step time it asks for (PyTorch's medians / target), the step's gemm work, that work at the
measured sgemm peak, each gemm shape at its rate alone (the gemm ceiling), the gemms' time in
the step, and the step. Usage: python3 roofline.py [DIR]
"""
import glob
import json
import os
import sys

HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
TARGET = {("Haswell", "S"): 2.5, ("Haswell", "M"): 2.0, ("Haswell", "L"): 2.5, ("Haswell", "G"): 2.5,
          ("SkylakeX", "S"): 2.5, ("SkylakeX", "M"): 1.8, ("SkylakeX", "L"): 1.6, ("SkylakeX", "G"): 2.5}
COMPARE = {"Haswell": "compare_hsw.json", "SkylakeX": "compare_skx.json"}


def flops(g):
    return 2 * g["m"] * g["n"] * g["k"] * g["calls"]


def gemm_ms(shapes, rate_key):
    # One-thread calls run two at a time (one per thread), as the gemm ceiling counts them.
    return sum(flops(g) / (g[rate_key] * 1e9) / (2 if g["threads"] == 1 else 1) for g in shapes) * 1e3


def span(xs, fmt="{:.1f}"):
    lo, hi = min(xs), max(xs)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else fmt.format(lo) + "-" + fmt.format(hi)


def main():
    print("| kernels | config | target | step asked for, ms | gemm GFLOP | gemm at peak, ms | gemm ceiling, ms "
          "| gemm in the step, ms | step, ms | passes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("Haswell", "SkylakeX"):
        torch = {}
        with open(os.path.join(HERE, COMPARE[kind])) as f:
            for row in json.load(f):
                if isinstance(row, dict) and "pytorch" in row:
                    torch[row["config"]] = [r["ms_per_step_median"] for r in row["pytorch"]]
        for config in ("S", "M", "L", "G"):
            runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(HERE, f"ceil_{kind}_{config}_*.json")))]
            if not runs or config not in torch:
                continue
            t = TARGET[(kind, config)]
            gf = [sum(flops(g) for g in r["gemm_shapes"]) / 1e9 for r in runs]
            at_peak = [x / r["sgemm_peak_gflop_per_s"] * 1e3 for x, r in zip(gf, runs)]
            print(f"| {kind} | {config} | {t} | {span([m / t for m in torch[config]])} | {span(gf, '{:.2f}')} "
                  f"| {span(at_peak)} | {span([r['gemm_ceiling']['ms'] for r in runs])} "
                  f"| {span([gemm_ms(r['gemm_shapes'], 'gflop_per_s_in_step') for r in runs])} "
                  f"| {span([r['ms_per_step_median'] for r in runs])} | {len(runs)} |")


if __name__ == "__main__":
    main()
