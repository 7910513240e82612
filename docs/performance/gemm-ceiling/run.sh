#!/bin/bash
# One pass of docs/performance.md's gemm-ceiling table: bench --gemm-profile on S, M, L and G under
# both kernel kinds. Usage: docs/performance/gemm-ceiling/run.sh [OUT_DIR]  (from the repository root)
set -euo pipefail
B=${ATTNLAB:-./build/attnlab}
OUT=${1:-.}
mkdir -p "$OUT"
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=passive
S="--d-model 64 --heads 4 --ff 256 --enc-layers 2 --dec-layers 2 --batch 32 --src-len 64 --tgt-len 64 --vocab 16 --steps 10"
M="--d-model 128 --heads 8 --ff 512 --enc-layers 2 --dec-layers 2 --batch 32 --src-len 128 --tgt-len 128 --vocab 16 --steps 5"
L="--d-model 256 --heads 8 --ff 1024 --enc-layers 3 --dec-layers 3 --batch 16 --src-len 256 --tgt-len 256 --vocab 16 --steps 3"
G="--arch gpt --model gpt --d-model 128 --heads 4 --ff 512 --layers 4 --batch 12 --seq-len 64 --vocab 65 --steps 10"
for kind in SkylakeX Haswell; do
  if [ $kind = Haswell ]; then export OPENBLAS_CORETYPE=Haswell ATTNLAB_ISA=avx2; else export OPENBLAS_CORETYPE=SkylakeX ATTNLAB_ISA=avx512; fi
  for c in S M L G; do
    $B bench ${!c} --warmup 3 --threads 2 --gemm-profile > $OUT/ceil_${kind}_$c.json || echo FAIL $kind $c
    python3 -c "
import json; j=json.load(open('$OUT/ceil_${kind}_$c.json'))
print('$kind $c', 'ms %.1f'%j['ms_per_step_median'], 'mfu %.3f'%j['mfu'], 'peak %.0f'%j['sgemm_peak_gflop_per_s'], 'ceiling ms %.1f'%j['gemm_ceiling']['ms'], 'ceiling mfu %.3f'%j['gemm_ceiling']['mfu'])"
  done
done
