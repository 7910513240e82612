#!/usr/bin/env bash
# Fails when a binary holds AVX-512 instructions outside the run-time-dispatched kernels
# (namespace attn::simd_avx512 and xsimd's avx512 instantiations, called only when isa() picks
# them). AVX-512 is recognised by its registers: zmm, the mask registers k0-k7, xmm16-31/ymm16-31,
# and EVEX broadcasts {1toN}. Usage: .ci/check_isa.sh [binary ...] (default: build/attnlab)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--self-test" ]; then  # the scan must flag AVX-512 code outside the kernels
  d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
  printf '#include <immintrin.h>\nfloat sum16(const float* p) { return _mm512_reduce_add_ps(_mm512_loadu_ps(p)); }\n' >"$d/a.cpp"
  printf 'float sum16(const float*); int main(int c, char**) { float x[16] = {}; return (int)sum16(x) + c; }\n' >"$d/m.cpp"
  g++ -O2 -mavx512f "$d/a.cpp" "$d/m.cpp" -o "$d/bad"
  if "$0" "$d/bad" >/dev/null; then echo "check_isa: self-test FAILED: sum16's zmm code was not flagged"; exit 1; fi
  echo "check_isa: self-test passed (AVX-512 code outside the kernels is flagged)"
  exit 0
fi
status=0
for bin in "${@:-build/attnlab}"; do
  [ -x "$bin" ] || { echo "check_isa: $bin: no such binary (build first)"; exit 2; }
  report=$(objdump -d --no-show-raw-insn -C "$bin" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn); next }
    /%zmm|%k[0-7]|%[xy]mm(1[6-9]|2[0-9]|3[01])|\{1to[0-9]+\}/ {
      if (fn ~ /attn::simd_avx512::|xsimd::avx512/) { allowed[fn]++ } else { bad[fn]++ }
    }
    END {
      for (f in allowed) n_ok++
      for (f in bad) { n_bad++; print "  outside the dispatched kernels: " f " (" bad[f] " instructions)" }
      printf "%d dispatched functions use AVX-512; %d others do\n", n_ok, n_bad
    }')
  echo "check_isa: $bin: $(tail -n 1 <<<"$report")"
  if grep -q "outside the dispatched" <<<"$report"; then
    grep "outside the dispatched" <<<"$report" | head -n 20
    status=1
  fi
done
exit $status
