#!/usr/bin/env bash
# E7 on E1 (docs/study.md): retrains E1's committed runs at one delay from their own config.json
# with --probe-every, checks that each test accuracy equals the committed one (training is
# deterministic), then runs the three probes on the best checkpoints.
# Usage: examples/e7_mechanism/run.sh [OUT] [DELAY]   (default OUT runs/e7-mechanism, DELAY 64)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/e7-mechanism}
DELAY=${2:-64}
BIN=${ATTNLAB:-build/attnlab}
E1=docs/study/protocol/e1-copy-memory/runs
MODELS=(gpt lstm-chrono lstm gru mamba)
mkdir -p "$OUT/runs"
train_one() {  # run folder of E1 -> retrained run with probes
  local src=$1 name
  name=$(basename "$src")
  [ -f "$OUT/runs/$name/summary.json" ] && return 0
  "$BIN" train --config "$src/config.json" --probe-every 250 --threads 1 --quiet --overwrite --out "$OUT/runs/$name" >/dev/null
}
export -f train_one
export OUT BIN
runs=()
for m in "${MODELS[@]}"; do for s in 1 2 3 4 5; do runs+=("$(ls -d "$E1/${m}_${DELAY}_seed${s}_"*)"); done; done
printf '%s\n' "${runs[@]}" | xargs -P 2 -I{} bash -c 'train_one {}'
# The retrained test accuracy must be the committed one.
for src in "${runs[@]}"; do
  name=$(basename "$src")
  want=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['test_sequence_accuracy'])" "$src/summary.json")
  got=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['test_sequence_accuracy'])" "$OUT/runs/$name/summary.json")
  [ "$want" = "$got" ] || { echo "e7: $name: test sequence accuracy $got, committed $want" >&2; exit 1; }
done
ckpts=()
for m in "${MODELS[@]}"; do ckpts+=(--checkpoint "$(ls -d "$OUT/runs/${m}_${DELAY}_seed1_"*)/best.safetensors"); done
"$BIN" probe gradflow "${ckpts[@]}" --examples 16 --out "$OUT/gradflow"
for s in 1 2 3 4 5; do
  g=$(ls -d "$OUT/runs/gpt_${DELAY}_seed${s}_"*)
  "$BIN" probe attention --checkpoint "$g/best.safetensors" --examples 16 --out "$OUT/attention/seed$s"
  "$BIN" probe ablate --checkpoint "$g/best.safetensors" --examples 200 --out "$OUT/ablate/seed$s"
done
python3 examples/e7_mechanism/summarise.py "$OUT" "$DELAY"
echo "e7: wrote $OUT"
