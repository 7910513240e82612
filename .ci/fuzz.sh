#!/usr/bin/env bash
# Fuzz smoke run: builds the libFuzzer targets (clang, ASan + UBSan) in ./build-fuzz, replays the
# committed corpus and regression inputs, then fuzzes each target for FUZZ_SECONDS (default 8;
# 6 targets, about a minute in all). Exits 1 on any crash, sanitizer report, timeout or OOM,
# printing the reproducer's path and its first 512 bytes. FUZZ_TARGETS="tsv metadata" picks targets.
# Assumes .ci/setup.sh's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-8}
read -r -a TARGETS <<<"${FUZZ_TARGETS:-safetensors checkpoint tsv train_config metadata task_opts}"
LIMITS=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10)

source .ci/install_missing.sh
install_missing fuzz clang libclang-rt-14-dev libomp-dev bsdextrautils  # bsdextrautils: hexdump

CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DATTNLAB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" --target fuzz_all -j"$(nproc)"

work=$(mktemp -d)  # new corpus entries and logs: never the committed corpus
trap 'rm -rf "$work"' EXIT
artifacts="$BUILD_DIR/fuzz-artifacts"  # kept after the run, so the paths printed stay valid
mkdir -p "$artifacts"

show() {  # reproducer path and bytes
  [ -f "$1" ] || { echo "fuzz: no reproducer file (a crash at start-up?)"; return 0; }
  echo "fuzz: reproducer $1 ($(stat -c %s "$1") bytes):"
  head -c 512 "$1" | hexdump -C
}

failed=0
for t in "${TARGETS[@]}"; do
  bin="$BUILD_DIR/fuzz/fuzz_$t"
  log="$work/$t.log"
  # 1. Every committed input, whole (fuzzing would truncate the large ones to -max_len).
  mapfile -t inputs < <(find "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" -type f 2>/dev/null | sort)
  if ! "$bin" "${LIMITS[@]}" "${inputs[@]}" >"$log" 2>&1; then
    tail -n 40 "$log"
    show "$(grep '^Running: ' "$log" | tail -n 1 | cut -d' ' -f2-)"
    echo "fuzz: $t FAILED on a committed input"
    failed=1
    continue
  fi
  # 2. Fuzz, starting from the seed corpus.
  mkdir -p "$work/$t"
  rm -f "$artifacts/$t"-*
  dict=()
  case $t in safetensors | checkpoint | train_config | metadata) dict=(-dict=tests/fuzz/json.dict) ;; esac
  start=$SECONDS
  if ! "$bin" "${LIMITS[@]}" "${dict[@]}" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
      "$work/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    tail -n 40 "$log"
    for f in "$artifacts/$t"-*; do [ -e "$f" ] && show "$f"; done
    echo "fuzz: $t FAILED"
    failed=1
    continue
  fi
  execs=$(grep -o 'number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+')
  printf 'fuzz: %-12s %9s execs in %3d s, %s; %d committed inputs replayed\n' "$t" "$execs" \
    $((SECONDS - start)) "$last" "${#inputs[@]}"
done
if ((failed)); then echo "fuzz: FAILED"; exit 1; fi
echo "fuzz: all ${#TARGETS[@]} targets passed"
