// Built for the x86-64 baseline (see CMakeLists.txt), so that it can run, and refuse, on a CPU
// without AVX2. Only C library calls here: an inline C++ function could be shared with a
// translation unit built for AVX2.
#include "autograd/isa.hpp"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace attn {
namespace {

Isa g_isa = Isa::avx2;

void die(const char* a, const char* b, const char* c, int code) {
  const char* parts[] = {"attnlab: error: ", a, b, c, "\n"};
  for (const char* s : parts)
    if (write(2, s, strlen(s)) < 0) break;
  _exit(code);
}

bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}

// Priority 101: before every unprioritised static initialiser, any of which may use AVX2.
__attribute__((constructor(101))) void choose_isa() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    die("this CPU lacks AVX2 or FMA, which this build of attnlab needs (it targets x86-64-v3, ",
        "CPUs from about 2013 on). ", "Rebuild on this machine with -DATTNLAB_NATIVE=ON.", 1);
  const bool has512 = cpu_has_avx512();
  const char* want = getenv("ATTNLAB_ISA");
  if (!want || !*want || strcmp(want, "auto") == 0) {
    g_isa = has512 ? Isa::avx512 : Isa::avx2;
  } else if (strcmp(want, "avx2") == 0) {
    g_isa = Isa::avx2;
  } else if (strcmp(want, "avx512") == 0) {
    if (!has512) die("ATTNLAB_ISA=avx512, but this CPU lacks AVX-512 (F, CD, DQ, BW and VL are needed)", "", "", 2);
    g_isa = Isa::avx512;
  } else {
    die("ATTNLAB_ISA=", want, " is not one of avx2, avx512, auto", 2);
  }
}

}  // namespace

Isa isa() { return g_isa; }
const char* isa_name(Isa i) { return i == Isa::avx512 ? "avx512" : "avx2"; }

}  // namespace attn
