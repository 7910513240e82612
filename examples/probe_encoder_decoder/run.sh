#!/usr/bin/env bash
# The probes on encoder-decoders (docs/probes.md): a Transformer, an LSTM with attention and a
# plain LSTM trained on copy (length 20, one seed, default settings), then gradient flow over the
# source for all three, attention statistics for the two with heads, and the Transformer's head
# ablation. An illustration of the probes, not a study: no tuning, one seed.
# Usage: examples/probe_encoder_decoder/run.sh [OUT]   (default runs/probe-encoder-decoder)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/probe-encoder-decoder}
BIN=${ATTNLAB:-build/attnlab}
TASK=(--task copy --task-opt length=20 --steps 1500 --eval-every 250 --threads 2 --quiet --overwrite)
mkdir -p "$OUT"
"$BIN" train --model transformer "${TASK[@]}" --probe-every 500 --out "$OUT/transformer"
"$BIN" train --model lstm-attn "${TASK[@]}" --out "$OUT/lstm-attn"
"$BIN" train --model lstm "${TASK[@]}" --out "$OUT/lstm"
ckpts=()
for m in transformer lstm-attn lstm; do ckpts+=(--checkpoint "$OUT/$m/best.safetensors"); done
"$BIN" probe gradflow "${ckpts[@]}" --examples 16 --out "$OUT/gradflow"
for m in transformer lstm-attn; do
  "$BIN" probe attention --checkpoint "$OUT/$m/best.safetensors" --examples 16 --out "$OUT/attention-$m"
done
"$BIN" probe ablate --checkpoint "$OUT/transformer/best.safetensors" --examples 500 --out "$OUT/ablate-transformer"
