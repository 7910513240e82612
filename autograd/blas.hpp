// Thin BLAS layer. Raw <cblas.h> stays inside blas.cpp: it clashes with xtensor-blas headers.
#pragma once
#include <cstdint>
#include <string>

namespace attn {

// C[M,N] = alpha * op(A) * op(B) + beta * C, row-major. op(X) is X or X^T.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Makes OpenBLAS 0.3.21 use its AVX-512/AVX2 kernels on CPUs it does not recognise
// (OpenBLAS #4267). OPENBLAS_CORETYPE must be set before the library loads, so when it is not
// set and the detected core is a slower one than the CPU supports, this sets it and re-executes
// the current program. A value the user already set is kept. Call first thing in main().
void ensure_fast_blas();

struct BlasInfo {
  std::string core;      // openblas_get_corename()
  std::string coretype;  // OPENBLAS_CORETYPE as seen by this process ("" if unset)
  std::string config;    // openblas_get_config()
  int threads = 1;       // openblas_get_num_threads()
  int omp_threads = 1;   // omp_get_max_threads()
};
BlasInfo blas_info();
void set_num_threads(int n);  // OpenMP and OpenBLAS together

}  // namespace attn
