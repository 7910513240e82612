// Which instruction set attnlab's own run-time-dispatched kernels use. The build targets
// x86-64-v3 (AVX2 + FMA); kernels that gain from AVX-512 also have a variant compiled for it.
// The choice is made once at start-up, before any other static initialiser runs:
//   ATTNLAB_ISA=avx2     the AVX2 path, as on an AVX2-only CPU (also picks OpenBLAS's Haswell
//                        kernels unless OPENBLAS_CORETYPE is set)
//   ATTNLAB_ISA=avx512   the AVX-512 path (an error on a CPU without it)
//   unset or auto        the best the CPU has
// On a CPU without AVX2 and FMA the program prints one error and exits before running any
// AVX2 code.
#pragma once

namespace attn {

enum class Isa { avx2, avx512 };

Isa isa();
const char* isa_name(Isa i);
inline const char* isa_name() { return isa_name(isa()); }

}  // namespace attn
