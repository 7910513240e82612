#include "autograd/blas.hpp"

#include "autograd/isa.hpp"

#include <cblas.h>
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <tuple>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" char* openblas_get_corename(void);
extern "C" char* openblas_get_config(void);
extern "C" int openblas_get_num_threads(void);
extern "C" void openblas_set_num_threads(int);

namespace attn {

namespace {
bool g_profile = false;
std::map<std::tuple<bool, bool, int64_t, int64_t, int64_t, bool>, std::pair<int64_t, double>> g_stats;
}  // namespace

void set_gemm_profiling(bool on) {
  g_profile = on;
  g_stats.clear();
}

std::vector<GemmShapeStat> gemm_profile() {
  std::vector<GemmShapeStat> out;
  for (auto& [key, v] : g_stats) {
    GemmShapeStat s;
    std::tie(s.trans_a, s.trans_b, s.m, s.n, s.k, s.in_parallel) = key;
    s.calls = v.first;
    s.seconds = v.second;
    out.push_back(s);
  }
  return out;
}

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (g_profile) {
    const auto t0 = std::chrono::steady_clock::now();
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m,
                (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
#pragma omp critical(attn_gemm_profile)
    {
      auto& v = g_stats[{ta, tb, m, n, k, omp_in_parallel() != 0}];
      v.first += 1;
      v.second += dt;
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c,
              (blasint)ldc);
}

template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                  int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c,
              (blasint)ldc);
}

namespace {

// The kernels that match the instruction-set path (isa.hpp): the CPU's best, or AVX2 under
// ATTNLAB_ISA=avx2, so that one variable makes attnlab behave as on an AVX2-only machine.
std::string wanted_core() { return isa() == Isa::avx512 ? "SkylakeX" : "Haswell"; }

}  // namespace

void ensure_fast_blas() {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice, or already re-executed
  const std::string want = wanted_core();
  setenv("OPENBLAS_CORETYPE", want.c_str(), 1);
  std::string core = openblas_get_corename();
  for (auto& ch : core) ch = (char)std::tolower((unsigned char)ch);
  std::string want_lower = want;
  for (auto& ch : want_lower) ch = (char)std::tolower((unsigned char)ch);
  if (core == want_lower) return;
  // Re-execute with the same arguments so that OpenBLAS loads with the variable set.
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<char*> argv;
  for (size_t i = 0; i < all.size(); i += std::strlen(&all[i]) + 1) argv.push_back(&all[i]);
  argv.push_back(nullptr);
  if (argv.size() > 1) execv("/proc/self/exe", argv.data());
  // execv failed: carry on with the slower kernels rather than stop.
}

BlasInfo blas_info() {
  BlasInfo info;
  info.core = openblas_get_corename();
  const char* ct = std::getenv("OPENBLAS_CORETYPE");
  info.coretype = ct ? ct : "";
  info.config = openblas_get_config();
  info.threads = openblas_get_num_threads();
  info.omp_threads = omp_get_max_threads();
  return info;
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

}  // namespace attn
