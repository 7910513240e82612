// Fault injection for the crash-safety tests, off unless ATTNLAB_FAULT is set:
//   ATTNLAB_FAULT=kill:N      SIGKILL at the N-th fault point reached (any name)
//   ATTNLAB_FAULT=count       print how many fault points the run reached, at exit
//   ATTNLAB_FAULT=fail:NAME:N the N-th time point NAME is reached, fail_here() returns true and
//                             the caller fails that write as if the disk were full (ENOSPC)
// Points sit inside every step of a checkpoint or metrics write (tests/train/test_crash_safety).
#pragma once

namespace attn {

// Returns true when the caller must fail (and sets errno); may not return at all (kill).
bool fault_point(const char* name);

}  // namespace attn
