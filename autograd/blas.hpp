// Thin BLAS layer. Raw <cblas.h> stays inside blas.cpp: it clashes with xtensor-blas headers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

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

// Optional timing of every float gemm by shape, for `attnlab bench --gemm-profile`. Off by
// default: when off, gemm pays one branch.
struct GemmShapeStat {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  bool in_parallel = false;  // called from inside an OpenMP region (BLAS single-threaded)
  int64_t calls = 0;
  double seconds = 0;        // summed over calls (and over threads, for in_parallel shapes)
};
void set_gemm_profiling(bool on);
std::vector<GemmShapeStat> gemm_profile();  // since profiling was last turned on

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
