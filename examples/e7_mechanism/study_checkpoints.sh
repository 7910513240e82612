#!/usr/bin/env bash
# E7 on E5 and E2 (docs/study.md): the probes on the best checkpoints a full `attnlab study` run
# leaves in its sweep folders (the committed folders keep no checkpoints). Seed 1 of each model.
# Usage: examples/e7_mechanism/study_checkpoints.sh STUDY_DIR [OUT]   (default OUT runs/e7-mechanism)
set -euo pipefail
cd "$(dirname "$0")/../.."
STUDY=${1:?usage: study_checkpoints.sh STUDY_DIR [OUT]}
OUT=${2:-runs/e7-mechanism}
BIN=${ATTNLAB:-build/attnlab}
best() { ls -d "$STUDY/$1/runs/$2_seed1_"*/ | head -1 | sed 's|/$|/best.safetensors|'; }
probe_cell() {  # SWEEP CELL_STEM NAME MODEL...
  local sweep=$1 cell=$2 name=$3
  shift 3
  local ckpts=()
  for m in "$@"; do ckpts+=(--checkpoint "$(best "$sweep" "${m}_${cell}")"); done
  "$BIN" probe gradflow "${ckpts[@]}" --examples 16 --out "$OUT/$name/gradflow"
  for m in "$@"; do
    case $m in gpt*) "$BIN" probe attention --checkpoint "$(best "$sweep" "${m}_${cell}")" --examples 16 \
                       --out "$OUT/$name/attention/$m" ;; esac
  done
}
E5=(gpt-rope gpt-none lstm-chrono gru mamba)
probe_cell e5-length-generalisation even-pairs_1 e5-even-pairs "${E5[@]}"
probe_cell e5-length-generalisation parity_1 e5-parity "${E5[@]}"
probe_cell e2-mqar-d128 4_64 e2-mqar-d128-4-64 gpt-d128 lstm-chrono-h128 gru-h128 mamba-d128
# gpt-rope on even-pairs, each seed, inside and beyond the trained lengths: accuracy beside the
# best head's attention on the source (the first token, which the label depends on).
csv="$OUT/e5-even-pairs/gpt-rope-by-length.csv"
echo "seed,lengths,sequence_accuracy,best_layer,best_head,best_source_mass" > "$csv"
for s in 1 2 3; do
  c=$(ls -d "$STUDY/e5-length-generalisation/runs/gpt-rope_even-pairs_1_seed${s}_"*/ | head -1)best.safetensors
  for r in 1:40 70:100; do
    lo=${r%:*} hi=${r#*:} dir="$OUT/e5-even-pairs/attention/gpt-rope-seed$s-len$lo-$hi"
    "$BIN" probe attention --checkpoint "$c" --task-opt min_length=$lo --task-opt length=$hi --examples 64 --out "$dir" >/dev/null
    acc=$("$BIN" eval --checkpoint "$c" --task-opt min_length=$lo --task-opt length=$hi --eval-examples 500 --json |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["sequence_accuracy"])')
    best=$(python3 -c 'import csv,sys; r=max(csv.DictReader(open(sys.argv[1])), key=lambda r: float(r["source_mass"])); print(r["layer"]+","+r["head"]+","+r["source_mass"])' "$dir/attention.csv")
    echo "$s,$lo-$hi,$acc,$best" >> "$csv"
  done
done
echo "e7: wrote $OUT"
