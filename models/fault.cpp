#include "models/fault.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace attn {
namespace {

struct FaultPlan {
  enum Kind { kNone, kKill, kFail, kCount } kind = kNone;
  std::string name;
  long at = 0, seen = 0;
};

FaultPlan parse(const char* spec) {
  FaultPlan p;
  if (!spec) return p;
  const std::string s = spec;
  if (s == "count") {
    p.kind = FaultPlan::kCount;
  } else if (s.rfind("kill:", 0) == 0) {
    p.kind = FaultPlan::kKill;
    p.at = std::atol(s.c_str() + 5);
  } else if (s.rfind("fail:", 0) == 0 && s.rfind(':') > 5) {
    p.kind = FaultPlan::kFail;
    p.name = s.substr(5, s.rfind(':') - 5);
    p.at = std::atol(s.c_str() + s.rfind(':') + 1);
  }
  return p;
}

FaultPlan plan = parse(std::getenv("ATTNLAB_FAULT"));

}  // namespace

bool fault_point(const char* name) {
  if (plan.kind == FaultPlan::kNone) return false;
  if (plan.kind == FaultPlan::kCount) {
    if (plan.seen++ == 0) std::atexit([] { std::fprintf(stderr, "fault points reached: %ld\n", plan.seen); });
    return false;
  }
  if (plan.kind == FaultPlan::kKill) {
    if (++plan.seen == plan.at) std::raise(SIGKILL);
    return false;
  }
  if (plan.name != name || ++plan.seen != plan.at) return false;
  errno = ENOSPC;
  return true;
}

}  // namespace attn
