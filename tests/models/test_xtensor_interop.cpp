#define BOOST_TEST_MODULE xtensor_interop
#include "tests/common.hpp"

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "autograd/ops.hpp"
#include "models/xtensor_interop.hpp"

// Every value here is a small integer or a half, exact in float32, so comparisons are exact.
using namespace attn;
namespace xi = attn::xtensor_interop;

BOOST_AUTO_TEST_CASE(a_tensor_is_viewed_without_a_copy) {
  Graph<float> g;
  auto t = g.tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  const auto v = xi::view(t);
  BOOST_TEST((v.shape() == xi::Dims{2, 3}));
  BOOST_TEST(v(1, 2) == 6.0f);
  BOOST_TEST(v(0, 1) == 2.0f);
  BOOST_TEST(v.data() == t.data());  // the same memory
  const xt::xarray<float> row_sums = xt::sum(v, {1});
  BOOST_TEST(row_sums(0) == 6.0f);
  BOOST_TEST(row_sums(1) == 15.0f);
  xi::mutable_view(t)(0, 0) = -1.0f;  // writes go to the tensor
  BOOST_TEST(t.data()[0] == -1.0f);
}

BOOST_AUTO_TEST_CASE(an_expression_becomes_a_tensor_and_back) {
  Graph<double> g;
  const xt::xarray<double> a = {{0.5, 1.0}, {1.5, 2.0}, {2.5, 3.0}};
  auto t = xi::to_tensor(g, a * 2.0, true);
  BOOST_TEST((t.shape() == Shape{3, 2}));
  BOOST_TEST(t.requires_grad());
  BOOST_TEST(t.values() == (std::vector<double>{1, 2, 3, 4, 5, 6}), boost::test_tools::per_element());
  BOOST_TEST(xi::view(t) == a * 2.0);
  // Through an op and back: the engine's sum over rows against the same numbers by hand.
  const xt::xarray<double> s = xi::view(sum(t, {0}));
  BOOST_TEST(s == (xt::xarray<double>{9.0, 12.0}));
}

BOOST_AUTO_TEST_CASE(assign_demands_the_exact_shape) {
  Graph<float> g;
  auto t = g.zeros({2, 2});
  xi::assign(t, xt::xarray<float>{{1, 2}, {3, 4}});
  BOOST_TEST(t.values() == (std::vector<float>{1, 2, 3, 4}), boost::test_tools::per_element());
  BOOST_CHECK_THROW(xi::assign(t, xt::xarray<float>{1, 2, 3, 4}), Error);        // [4], not [2, 2]
  BOOST_CHECK_THROW(xi::assign(t, xt::xarray<float>{{1, 2}}), Error);            // [1, 2]: no broadcasting
  BOOST_CHECK_THROW(xi::to_tensor(g, xt::zeros<float>({1, 1, 1, 1, 1, 1, 1})), Error);  // 7 > kMaxDims
  BOOST_TEST(t.values() == (std::vector<float>{1, 2, 3, 4}), boost::test_tools::per_element());  // untouched
}

BOOST_AUTO_TEST_CASE(checkpoint_tensors_round_trip) {
  const xt::xarray<float> a = {{1.5f, -2.0f, 3.0f}, {0.25f, 0.0f, -8.0f}};
  const NamedTensor nt = xi::to_named_tensor("w", a);
  BOOST_TEST(nt.dtype == "F32");
  BOOST_TEST((nt.shape == std::vector<int64_t>{2, 3}));
  const auto v = xi::view<float>(nt);  // in place
  BOOST_TEST(static_cast<const void*>(v.data()) == static_cast<const void*>(nt.bytes.data()));
  BOOST_TEST(v == a);
  const xt::xarray<double> d = xi::to_xarray<double>(nt);  // converted copy
  BOOST_TEST(d(1, 2) == -8.0);
  BOOST_TEST(xi::to_named_tensor("w64", d).dtype == "F64");
  BOOST_TEST(xi::to_xarray<float>(xi::to_named_tensor("w64", d)) == a);
  // Through the checkpoint type's own reader: the same numbers.
  Checkpoint ck;
  ck.tensors.push_back(nt);
  std::vector<double> out(6);
  read_tensor(ck, "w", out.data(), out.size(), "memory");
  BOOST_TEST(out == (std::vector<double>{1.5, -2.0, 3.0, 0.25, 0.0, -8.0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(checkpoint_views_check_dtype_and_size) {
  const NamedTensor f32 = xi::to_named_tensor("w", xt::xarray<float>{1, 2});
  BOOST_CHECK_THROW(xi::view<double>(f32), CheckpointError);
  NamedTensor short_bytes = f32;
  short_bytes.bytes.resize(4);  // one element's bytes for a shape of two
  BOOST_CHECK_THROW(xi::view<float>(short_bytes), CheckpointError);
  NamedTensor odd = f32;
  odd.dtype = "I64";
  BOOST_CHECK_THROW(xi::to_xarray<float>(odd), CheckpointError);
}
