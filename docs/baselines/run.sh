#!/bin/bash
# The baseline studies of docs/models.md: each model for 3,000 steps at batch 32 in the
# one-stream format, at each of three learning rates; collect.py picks each model's rate on
# validation.
#   copy-memory:    delay 100, 10 symbols of 8 (the SEP layout); models lstm lstm-chrono gru mamba gpt
#   selective-copy: length 256, 16 symbols of 16;                 models mamba mamba-lti
# Usage: docs/baselines/run.sh copy-memory|selective-copy OUT [MODEL ...]
# Runs two trainings at a time, one thread each (small recurrent steps scale poorly over threads).
set -euo pipefail
study=${1:-}
out=${2:-}
[[ -n "$study" && -n "$out" ]] || { echo "usage: run.sh copy-memory|selective-copy OUT [MODEL ...]" >&2; exit 2; }
shift 2
case "$study" in
  copy-memory) task="--task copy-memory --task-opt delay=100"; default_models="lstm lstm-chrono gru mamba" ;;
  selective-copy) task="--task selective-copy --task-opt length=256 --task-opt symbols=16 --task-opt alphabet=16"
                  default_models="mamba mamba-lti" ;;
  *) echo "run.sh: unknown study '$study' (copy-memory, selective-copy)" >&2; exit 2 ;;
esac
models=${*:-$default_models}
bin=${ATTNLAB:-$(dirname "$0")/../../build/attnlab}
declare -A flags=([lstm]="--model lstm" [lstm-chrono]="--model lstm --chrono-init 120" [gru]="--model gru"
                  [mamba]="--model mamba" [mamba-lti]="--model mamba --ssm-lti" [gpt]="--model gpt --pos rope")
mkdir -p "$out"
jobs=()
for m in $models; do
  [[ -n "${flags[$m]:-}" ]] || { echo "run.sh: unknown model '$m' (${!flags[*]})" >&2; exit 2; }
  for lr in 1e-3 3e-3 1e-2; do
    run="$out/$m-lr$lr"
    [[ -f "$run/summary.json" ]] && continue
    jobs+=("$bin train ${flags[$m]} --format lm $task --steps 3000 --batch 32 --lr $lr --seed 1 --threads 1 \
--eval-every 250 --quiet --out $run > $run.log 2>&1 && echo done: $run")
  done
done
[[ ${#jobs[@]} -gt 0 ]] || { echo "run.sh: every run under $out is done"; exit 0; }
printf '%s\n' "${jobs[@]}" | xargs -d '\n' -P 2 -I{} bash -c '{}'
