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
  Expect(Strings t = {}, Ints d = {}) : tgt(std::move(t)), distance(std::move(d)) {}
  Strings tgt;
  Ints distance;
  Strings labels;  // a one-stream layout's labels ("<pad>": none), when the task has one
  Ints label_distance;
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

// [min, max] of a knob pair whose minimum is -1 when unset ("fixed at max").
std::pair<long, long> span(const Task& t, const char* min_knob, const char* max_knob) {
  const long hi = t.knob(max_knob), lo = t.knob(min_knob);
  return {lo < 0 ? hi : lo, hi};
}

Expect copy_memory(const Task& t, const Strings& src) {
  const long n = t.knob("symbols"), k = t.knob("alphabet");
  const auto [lo, hi] = span(t, "min_delay", "delay");
  Expect e;
  if (t.knob("layout") == 1) {  // aligned: N symbols, T-1 blanks, ':', N blanks
    expect_len("source", src.size(), n + lo + n, n + hi + n);
    const long T = (long)src.size() - 2 * n;
    for (long i = 0; i < (long)src.size(); ++i) {
      const bool ok = i < n ? number(src[i], "", k) >= 0 : i == n + T - 1 ? src[i] == ":" : src[i] == "_";
      if (!ok) fail("aligned source token {} is '{}', which does not fit symbols, blanks, delimiter, blanks", i, src[i]);
      e.labels.push_back(i < T + n ? "_" : src[i - T - n]);
      e.label_distance.push_back(i < T + n ? -1 : (int)(T + n));
    }
    return e;
  }
  expect_len("source", src.size(), n + lo + 1, n + hi + 1);
  const long delay = (long)src.size() - n - 1;
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
  const long k = t.knob("pairs"), q = t.knob("queries");
  const long nk = t.knob("keys"), nv = t.knob("values");
  const auto [glo, ghi] = span(t, "min_gap", "gap");
  expect_len("source", src.size(), 2 * k + glo + q, 2 * k + ghi + q);
  const long s = (long)src.size(), g = s - 2 * k - q;
  std::map<std::string, std::pair<std::string, long>> table;  // key -> (value, position)
  std::set<std::string> values;
  for (long i = 0; i < 2 * k; i += 2) {
    if (number(src[i], "k", nk) < 0 || number(src[i + 1], "v", nv) < 0)
      fail("tokens {} and {} ('{} {}') are not a key-value pair", i, i + 1, src[i], src[i + 1]);
    if (!table.emplace(src[i], std::make_pair(src[i + 1], i)).second) fail("key '{}' appears twice", src[i]);
    if (!values.insert(src[i + 1]).second && t.knob("distinct_values")) fail("value '{}' appears twice", src[i + 1]);
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


// ---- mqar ----

Expect mqar(const Task& t, const Strings& src) {
  const long v = t.knob("vocab"), k = t.knob("pairs"), len = t.knob("length");
  expect_len("source", src.size(), len, len);
  std::vector<long> x(len);
  for (long i = 0; i < len; ++i)
    if ((x[i] = number(src[i], "", v)) < 0) fail("token {} '{}' is not a number below {}", i, src[i], v);
  std::map<long, long> key_at;  // key -> its pair's position
  std::set<long> vals;
  for (long i = 0; i < 2 * k; i += 2) {
    if (x[i] < 1 || x[i] >= v / 2) fail("key {} at {} is not in the lower half [1, {})", x[i], i, v / 2);
    if (x[i + 1] < v / 2) fail("value {} at {} is not in the upper half [{}, {})", x[i + 1], i + 1, v / 2, v);
    if (!key_at.emplace(x[i], i).second) fail("key {} appears twice in the pairs", x[i]);
    if (!vals.insert(x[i + 1]).second) fail("value {} appears twice in the pairs", x[i + 1]);
  }
  Expect e;
  e.labels.assign(len, "<pad>");
  e.label_distance.assign(len, -1);
  std::set<long> asked;
  for (long i = 2 * k; i < len; ++i) {
    const auto it = key_at.find(x[i]);
    if (it == key_at.end()) {
      if (!t.knob("random_filler") && x[i] != 0) fail("filler at {} is {}, not 0", i, x[i]);
      continue;
    }
    if ((i - 2 * k) % 2) fail("query of key {} at {} is at an odd offset", x[i], i);
    if (!asked.insert(x[i]).second) fail("key {} is queried twice", x[i]);
    e.tgt.push_back(src[it->second + 1]);
    e.distance.push_back((int)(i - it->second));
    e.labels[i] = src[it->second + 1];
    e.label_distance[i] = (int)(i - it->second);
  }
  if ((long)asked.size() != k) fail("{} of {} keys are queried", asked.size(), k);
  return e;
}

// ---- Deletang et al. counter-cases and Dyck ----

std::pair<long, long> lengths_of(const Task& t) {
  const long hi = t.knob("length"), mn = t.knob("min_length");
  return {mn ? mn : hi, hi};
}

void expect_only(const Strings& src, const std::set<std::string>& allowed) {
  for (size_t i = 0; i < src.size(); ++i)
    if (!allowed.count(src[i])) fail("source token {} '{}' is not allowed here", i, src[i]);
}

Expect even_pairs(const Task& t, const Strings& src) {
  const auto [lo, hi] = lengths_of(t);
  expect_len("source", src.size(), lo, hi);
  expect_only(src, {"a", "b"});
  std::string w;
  for (const auto& x : src) w += x;
  long pairs = 0;  // literally count the substrings "ab" and "ba"
  for (const char* sub : {"ab", "ba"})
    for (size_t at = w.find(sub); at != std::string::npos; at = w.find(sub, at + 1)) ++pairs;
  return {{pairs % 2 ? "odd" : "even"}, {(int)src.size()}};
}

Expect cycle_navigation(const Task& t, const Strings& src) {
  const auto [lo, hi] = lengths_of(t);
  expect_len("source", src.size(), lo, hi);
  const std::map<std::string, long> step = {{"inc", 1}, {"dec", -1}, {"stay", 0}};
  long pos = 0;
  for (const auto& x : src) {
    if (!step.count(x)) fail("'{}' is not a move", x);
    pos += step.at(x);
  }
  return {{std::to_string(((pos % 5) + 5) % 5)}, {(int)src.size()}};
}

// Recursive descent over + - (left associative), * (binds tighter), unary minus and brackets;
// values reduced mod 5 at the end of each step.
struct ArithParser {
  const Strings& s;
  size_t i = 0;
  static long m(long x) { return ((x % 5) + 5) % 5; }
  bool at(const char* tok) const { return i < s.size() && s[i] == tok; }
  long expr() {
    long v = term();
    while (at("+") || at("-")) v = s[i++] == "+" ? m(v + term()) : m(v - term());
    return v;
  }
  long term() {
    long v = factor();
    while (at("*")) ++i, v = m(v * factor());
    return v;
  }
  long factor() {
    if (at("-")) return ++i, m(-factor());
    if (at("(")) {
      ++i;
      const long v = expr();
      if (!at(")")) fail("missing ')' at {}", i);
      return ++i, v;
    }
    if (i < s.size() && number(s[i], "", 5) >= 0) return number(s[i++], "", 5);
    fail("expected a digit, '-' or '(' at {}", i);
  }
};

Expect modular_arithmetic(const Task& t, const Strings& src) {
  const auto [lo, hi] = lengths_of(t);
  expect_len("source", src.size(), lo, hi);
  if (!t.knob("brackets")) {
    if (src.size() % 2 == 0) fail("length {} is even; without brackets expressions alternate digit, operator, digit", src.size());
    for (size_t i = 0; i < src.size(); ++i)
      if ((i % 2 == 0) != (number(src[i], "", 5) >= 0) || src[i] == "(" || src[i] == ")")
        fail("token {} '{}' breaks the digit-operator alternation", i, src[i]);
  }
  ArithParser p{src};
  const long v = p.expr();
  if (p.i != src.size()) fail("tokens left after the expression at {}", p.i);
  return {{std::to_string(v)}, {(int)src.size()}};
}

Expect stack_manipulation(const Task& t, const Strings& src) {
  const auto [lo, hi] = lengths_of(t);
  expect_len("source", src.size(), lo, hi);
  size_t bits = 0;
  while (bits < src.size() && (src[bits] == "0" || src[bits] == "1")) ++bits;
  if (bits == 0 || bits == src.size()) fail("{} initial bits; expected 1 .. L-1", bits);
  std::vector<std::pair<std::string, long>> stack;  // bottom first: (bit, position that placed it)
  for (size_t i = 0; i < src.size(); ++i) {
    const std::string& x = src[i];
    if (i < bits) stack.push_back({x, (long)i});
    else if (x == "PUSH0" || x == "PUSH1") stack.push_back({x.substr(4), (long)i});
    else if (x == "POP") { if (!stack.empty()) stack.pop_back(); }
    else fail("token {} '{}' is not an action", i, x);
  }
  Expect e;
  const int s = (int)src.size();
  for (size_t j = stack.size(); j-- > 0;) {
    e.tgt.push_back(stack[j].first);
    e.distance.push_back(s - (int)stack[j].second);
  }
  e.tgt.push_back("$");
  e.distance.push_back(s);
  return e;
}

// Column addition of little-endian bit strings, as text.
std::string add_le(const std::string& a, const std::string& b) {
  std::string out;
  int c = 0;
  for (size_t i = 0; i < a.size() || i < b.size() || c; ++i) {
    c += (i < a.size() && a[i] == '1') + (i < b.size() && b[i] == '1');
    out += (char)('0' + c % 2);
    c /= 2;
  }
  return out.substr(0, std::max<size_t>(1, out.find_last_of('1') + 1));
}

Expect binary_addition(const Task& t, const Strings& src) {
  const auto [lo, hi] = lengths_of(t);
  expect_len("source", src.size(), lo, hi);
  std::string w;
  for (const auto& x : src) w += x;
  const size_t plus = w.find('+');
  if (plus == std::string::npos || w.find('+', plus + 1) != std::string::npos) fail("expected exactly one '+'");
  const std::string a = w.substr(0, plus), b = w.substr(plus + 1);
  for (const auto& n : {a, b}) {
    if (n.empty() || n.find_first_not_of("01") != std::string::npos) fail("'{}' is not a binary number", n);
    if (n.find('1') == std::string::npos) fail("'{}' is zero; both numbers are at least 1", n);
  }
  // Short numbers by machine arithmetic, long ones by column addition.
  std::string sum;
  if (a.size() <= 62 && b.size() <= 62) {
    auto value = [](const std::string& n) { uint64_t v = 0; for (size_t i = n.size(); i-- > 0;) v = 2 * v + (n[i] == '1'); return v; };
    for (uint64_t v = value(a) + value(b); v; v /= 2) sum += (char)('0' + v % 2);
  } else {
    sum = add_le(a, b);
  }
  Expect e;
  for (char c : sum) {
    e.tgt.push_back(std::string(1, c));
    e.distance.push_back((int)src.size());
  }
  return e;
}

Expect dyck(const Task& t, const Strings& src) {
  const auto [lo, hi] = lengths_of(t);
  expect_len("source", src.size(), lo, hi);
  if (src.size() % 2) fail("odd length {}", src.size());
  const long kinds = t.knob("kinds");
  std::map<std::string, std::pair<long, int>> kind_of;  // token -> (kind, +1 open / -1 close)
  const char* first[4][2] = {{"(", ")"}, {"[", "]"}, {"{", "}"}, {"<", ">"}};
  for (long k = 0; k < kinds; ++k) {
    kind_of[k < 4 ? first[k][0] : "(" + std::to_string(k)] = {k, 1};
    kind_of[k < 4 ? first[k][1] : ")" + std::to_string(k)] = {k, -1};
  }
  std::vector<long> net(kinds, 0);
  std::vector<long> w;  // kind + 1 for an opener, -(kind + 1) for a closer
  for (const auto& x : src) {
    const auto it = kind_of.find(x);
    if (it == kind_of.end()) fail("'{}' is not a bracket of the {} kinds", x, kinds);
    net[it->second.first] += it->second.second;
    w.push_back(it->second.second * (it->second.first + 1));
  }
  for (long k = 0; k < kinds; ++k)
    if (net[k]) fail("kind {} is opened {} more times than closed; counts must match in every example", k, net[k]);
  // Balanced iff repeatedly deleting adjacent matched pairs empties the string.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i + 1 < w.size(); ++i)
      if (w[i] > 0 && w[i + 1] == -w[i]) {
        w.erase(w.begin() + (long)i, w.begin() + (long)i + 2);
        changed = true;
        break;
      }
  }
  return {{w.empty() ? "balanced" : "unbalanced"}, {(int)src.size()}};
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
    else if (n == "mqar") e = mqar(task, src);
    else if (n == "even-pairs") e = even_pairs(task, src);
    else if (n == "cycle-navigation") e = cycle_navigation(task, src);
    else if (n == "modular-arithmetic") e = modular_arithmetic(task, src);
    else if (n == "stack-manipulation") e = stack_manipulation(task, src);
    else if (n == "binary-addition") e = binary_addition(task, src);
    else if (n == "dyck") e = dyck(task, src);
    else return "no checker for task " + n;
    if (tgt != e.tgt) fail("target '{}', expected '{}'", fmt::join(tgt, " "), fmt::join(e.tgt, " "));
    if (ex.distance != e.distance)
      fail("distances [{}], expected [{}]", fmt::join(ex.distance, " "), fmt::join(e.distance, " "));
    for (int id : ex.labels)
      if (id != Vocab::PAD && (id < Vocab::NUM_SPECIAL || id >= v.size())) fail("label id {} is a special or out of range", id);
    // A seq2seq view of an example (sample --json) may leave its stream labels out; a stream-only
    // one may not.
    const bool labelled = !ex.labels.empty() || task.stream_only();
    if (labelled && v.to_strings(ex.labels) != e.labels)
      fail("stream labels '{}', expected '{}'", fmt::join(v.to_strings(ex.labels), " "), fmt::join(e.labels, " "));
    if (labelled && ex.label_distance != e.label_distance)
      fail("label distances [{}], expected [{}]", fmt::join(ex.label_distance, " "), fmt::join(e.label_distance, " "));
    return "";
  } catch (const Fail& f) {
    return f.what();
  }
}

}  // namespace attn::data
