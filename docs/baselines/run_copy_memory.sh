#!/bin/bash
# Copy memory at delay 100 in the one-stream SEP layout (format lm): every model for 3,000 steps
# at batch 32, at each of three learning rates; collect.py picks each model's rate on validation.
# Usage: docs/baselines/run_copy_memory.sh OUT [MODEL ...]   (models: lstm lstm-chrono gru mamba gpt)
# Runs two trainings at a time, one thread each (small recurrent steps scale poorly over threads).
set -euo pipefail
out=${1:?usage: run_copy_memory.sh OUT [MODEL ...]}
shift
models=("${@:-lstm lstm-chrono gru}")
bin=${ATTNLAB:-$(dirname "$0")/../../build/attnlab}
declare -A flags=([lstm]="--model lstm" [lstm-chrono]="--model lstm --chrono-init 120" [gru]="--model gru"
                  [mamba]="--model mamba" [gpt]="--model gpt --pos rope")
jobs=()
for m in ${models[@]}; do
  [[ -n "${flags[$m]:-}" ]] || { echo "unknown model $m (lstm lstm-chrono gru mamba gpt)" >&2; exit 2; }
  for lr in 1e-3 3e-3 1e-2; do
    run="$out/$m-lr$lr"
    [[ -f "$run/summary.json" ]] && continue
    jobs+=("$bin train ${flags[$m]} --format lm --task copy-memory --task-opt delay=100 --steps 3000 --batch 32 \
--lr $lr --seed 1 --threads 1 --eval-every 250 --quiet --out $run > $run.log 2>&1")
  done
done
mkdir -p "$out"
printf '%s\n' "${jobs[@]}" | xargs -d '\n' -P 2 -I{} bash -c '{} && echo "done: {}" | sed "s/ --.*--out / /"'
