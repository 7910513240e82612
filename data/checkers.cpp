#include "data/checkers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

namespace attn::data {
namespace {

using Strings = std::vector<std::string>;
using Ints = std::vector<int>;

struct Fail : std::runtime_error {
  using std::runtime_error::runtime_error;
};
template <typename... A>
[[noreturn]] void fail(fmt::format_string<A...> f, A&&... a) {
  throw Fail(fmt::format(f, std::forward<A>(a)...));
}

// Parses prefix + decimal number in [0, n); -1 when `s` is not of that form.
long number(const std::string& s, const std::string& prefix, long n) {
  if (s.size() <= prefix.size() || s.compare(0, prefix.size(), prefix) != 0) return -1;
  long v = 0;
  for (size_t i = prefix.size(); i < s.size(); ++i) {
    if (!std::isdigit((unsigned char)s[i]) || v > 1000000000) return -1;
    v = v * 10 + (s[i] - '0');
  }
  if (s.size() > prefix.size() + 1 && s[prefix.size()] == '0') return -1;  // no leading zeros
  return v < n ? v : -1;
}

void expect_len(const char* what, size_t got, long lo, long hi) {
  if ((long)got < lo || (long)got > hi) fail("{} length {} outside [{}, {}]", what, got, lo, hi);
}

struct Expect {
  Strings tgt;
  Ints distance;
};

std::pair<long, long> lengths(const Task& t) {
  const long hi = t.knob("length"), mn = t.knob("min_length");
  return {mn ? mn : hi, hi};
}

Expect sequence(const Task& t, const Strings& src) {
  const auto [lo, hi] = lengths(t);
  expect_len("source", src.size(), lo, hi);
  const long s = (long)src.size(), k = t.knob("alphabet");
  for (const auto& x : src)
    if (number(x, "", k) < 0) fail("source token '{}' is not a symbol below {}", x, k);
  Expect e;
  e.tgt = src;
  if (t.name() == "reverse") std::reverse(e.tgt.begin(), e.tgt.end());
  if (t.name() == "sort")
    std::stable_sort(e.tgt.begin(), e.tgt.end(), [](const std::string& a, const std::string& b) {
      return std::stol(a) < std::stol(b);
    });
  for (long j = 0; j < s; ++j)
    e.distance.push_back(t.name() == "copy" ? (int)(s - j) : t.name() == "reverse" ? (int)(j + 1) : (int)s);
  return e;
}

Expect copy_memory(const Task& t, const Strings& src) {
  const long n = t.knob("symbols"), delay = t.knob("delay"), k = t.knob("alphabet");
  expect_len("source", src.size(), n + delay + 1, n + delay + 1);
  Expect e;
  for (long i = 0; i < (long)src.size(); ++i) {
    const bool ok = i < n ? number(src[i], "", k) >= 0 : i < n + delay ? src[i] == "_" : src[i] == ":";
    if (!ok) fail("source token {} is '{}', which does not fit symbols, blanks, delimiter", i, src[i]);
  }
  for (long i = 0; i < n; ++i) {
    e.tgt.push_back(src[i]);
    e.distance.push_back((int)(n - i + delay + 1));  // the formula, verbatim
  }
  return e;
}

Expect adding(const Task& t, const Strings& src) {
  const long len = t.knob("length");
  expect_len("source", src.size(), len, len);
  std::vector<long> marks;
  long sum = 0;
  for (long i = 0; i < len; ++i) {
    if (number(src[i], "*", 10) >= 0) {
      marks.push_back(i);
      sum += number(src[i], "*", 10);
    } else if (number(src[i], "", 10) < 0) {
      fail("source token '{}' is neither a digit nor a marked digit", src[i]);
    }
  }
  if (marks.size() != 2) fail("{} marked digits, expected 2", marks.size());
  if (marks[0] >= std::min(10L, len / 2 - 1)) fail("first mark at {} is not early", marks[0]);
  if (marks[1] >= len / 2) fail("second mark at {} is not in the first half", marks[1]);
  const std::string s = fmt::format("{:02d}", sum);
  return {{s.substr(0, 1), s.substr(1, 1)}, {(int)(len - marks[0]), (int)(len - marks[0])}};
}

Expect associative_recall(const Task& t, const Strings& src) {
  const long k = t.knob("pairs"), q = t.knob("queries"), g = t.knob("gap");
  const long nk = t.knob("keys"), nv = t.knob("values");
  const long s = 2 * k + g + q;
  expect_len("source", src.size(), s, s);
  std::map<std::string, std::pair<std::string, long>> table;  // key -> (value, position)
  for (long i = 0; i < 2 * k; i += 2) {
    if (number(src[i], "k", nk) < 0 || number(src[i + 1], "v", nv) < 0)
      fail("tokens {} and {} ('{} {}') are not a key-value pair", i, i + 1, src[i], src[i + 1]);
    if (!table.emplace(src[i], std::make_pair(src[i + 1], i)).second) fail("key '{}' appears twice", src[i]);
  }
  for (long i = 2 * k; i < 2 * k + g; ++i)
    if (src[i] != "_") fail("gap token {} is '{}'", i, src[i]);
  Expect e;
  std::set<std::string> asked;
  for (long i = 2 * k + g; i < s; ++i) {
    auto it = table.find(src[i]);
    if (it == table.end()) fail("query '{}' is not a key of the pairs", src[i]);
    if (!asked.insert(src[i]).second) fail("key '{}' is queried twice", src[i]);
    e.tgt.push_back(it->second.first);
    e.distance.push_back((int)(s - it->second.second));
  }
  return e;
}

Expect selective_copy(const Task& t, const Strings& src) {
  const long len = t.knob("length"), m = t.knob("symbols");
  expect_len("source", src.size(), len, len);
  Expect e;
  for (long i = 0; i < len; ++i) {
    if (number(src[i], "", t.knob("alphabet")) >= 0) {
      e.tgt.push_back(src[i]);
      e.distance.push_back((int)(len - i));
    } else if (t.knob("noise") == 1 ? src[i] != "_" : number(src[i], "_", t.knob("noise")) < 0) {
      fail("source token '{}' is neither data nor noise", src[i]);
    }
  }
  if ((long)e.tgt.size() != m) fail("{} data symbols, expected {}", e.tgt.size(), m);
  return e;
}

Expect listops(const Task& t, const Strings& src) {
  expect_len("source", src.size(), 4, t.knob("max_length"));
  struct Frame {
    std::string op;
    std::vector<int> args;
  };
  std::vector<Frame> stack;
  long result = -1, deepest = 0;
  for (size_t i = 0; i < src.size(); ++i) {
    const std::string& x = src[i];
    if (result >= 0) fail("tokens after the end of the expression at {}", i);
    if (x == "[MAX" || x == "[MIN" || x == "[MED" || x == "[SM") {
      if (stack.empty() && i != 0) fail("operator at {} outside the expression", i);
      stack.push_back({x.substr(1), {}});
      deepest = std::max(deepest, (long)stack.size());
    } else if (x == "]") {
      if (stack.empty()) fail("unbalanced ']' at {}", i);
      Frame f = std::move(stack.back());
      stack.pop_back();
      auto& a = f.args;
      if ((long)a.size() < 2 || (long)a.size() > t.knob("max_args"))
        fail("{} has {} arguments, allowed 2 to {}", f.op, a.size(), t.knob("max_args"));
      std::sort(a.begin(), a.end());
      int v = 0;
      if (f.op == "MAX") v = a.back();
      if (f.op == "MIN") v = a.front();
      if (f.op == "MED") v = a.size() % 2 ? a[a.size() / 2] : (a[a.size() / 2 - 1] + a[a.size() / 2]) / 2;
      if (f.op == "SM") {
        for (int y : a) v += y;
        v %= 10;
      }
      if (stack.empty()) result = v;
      else stack.back().args.push_back(v);
    } else if (x.size() == 1 && std::isdigit((unsigned char)x[0]) && !stack.empty()) {
      stack.back().args.push_back(x[0] - '0');
    } else {
      fail("unexpected token '{}' at {}", x, i);
    }
  }
  if (result < 0) fail("the expression is not closed");
  if (deepest > t.knob("max_depth")) fail("depth {} exceeds max_depth {}", deepest, t.knob("max_depth"));
  return {{std::to_string(result)}, {(int)src.size()}};
}

Expect parity(const Task& t, const Strings& src) {
  const auto [lo, hi] = lengths(t);
  expect_len("source", src.size(), lo, hi);
  const auto ones = std::count(src.begin(), src.end(), "1");
  if (ones + std::count(src.begin(), src.end(), "0") != (long)src.size()) fail("source is not all bits");
  return {{ones % 2 ? "1" : "0"}, {(int)src.size()}};
}

}  // namespace

std::string check_example(const Task& task, const Example& ex) {
  try {
    const Vocab& v = task.vocab();
    for (int id : ex.src)
      if (id < Vocab::NUM_SPECIAL || id >= v.size()) fail("source id {} is a special or out of range", id);
    for (int id : ex.tgt)
      if (id < Vocab::NUM_SPECIAL || id >= v.size()) fail("target id {} is a special or out of range", id);
    const Strings src = v.to_strings(ex.src), tgt = v.to_strings(ex.tgt);
    const std::string& n = task.name();
    Expect e;
    if (n == "copy" || n == "reverse" || n == "sort") e = sequence(task, src);
    else if (n == "copy-memory") e = copy_memory(task, src);
    else if (n == "adding") e = adding(task, src);
    else if (n == "associative-recall") e = associative_recall(task, src);
    else if (n == "selective-copy") e = selective_copy(task, src);
    else if (n == "listops") e = listops(task, src);
    else if (n == "parity") e = parity(task, src);
    else return "no checker for task " + n;
    if (tgt != e.tgt) fail("target '{}', expected '{}'", fmt::join(tgt, " "), fmt::join(e.tgt, " "));
    if (ex.distance != e.distance)
      fail("distances [{}], expected [{}]", fmt::join(ex.distance, " "), fmt::join(e.distance, " "));
    return "";
  } catch (const Fail& f) {
    return f.what();
  }
}

}  // namespace attn::data
