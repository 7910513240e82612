// Included once per test executable, after BOOST_TEST_MODULE is defined.
#pragma once
#include <boost/test/unit_test.hpp>

#include "autograd/blas.hpp"

// Tests use the same BLAS kernels as the program: see attn::ensure_fast_blas.
struct FastBlasFixture {
  FastBlasFixture() { attn::ensure_fast_blas(); }
};
BOOST_TEST_GLOBAL_FIXTURE(FastBlasFixture);
