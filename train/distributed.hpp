// The processes of one data-parallel run (`mpirun -np N attnlab train`): each takes its slice of
// every batch and of every evaluation, and they sum what they computed. The MPI build
// (-DATTNLAB_MPI=ON) implements this in distributed_mpi.cpp; the default build has one process
// (distributed_local.cpp) and no MPI in it, so the training code calls this interface alone.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace attn {

class Ranks {
 public:
  // This process's group: every process of an mpirun launch in an MPI build, else this one.
  static const Ranks& world();
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }  // the one that writes files and prints
  bool many() const { return size_ > 1; }
  // In place, the elementwise sum over the ranks; every rank gets the same bits.
  void sum(float* x, size_t n) const;
  void sum(double* x, size_t n) const;
  // Every rank's bytes, in rank order.
  std::vector<std::string> gather(const std::string& mine) const;
  void barrier() const;
  // Ends every rank of the job with `code` (an error on one rank must not leave the others
  // waiting in a collective).
  [[noreturn]] void abort(int code) const;
  // Seconds spent in the collectives above so far, waiting for the other ranks included.
  double communication_seconds() const { return comm_seconds_; }

 private:
  friend void start_ranks(int& argc, char**& argv);
  friend struct CommTimer;
  int rank_ = 0, size_ = 1;
  mutable double comm_seconds_ = 0;
};

// Called first in main: joins the job when this process was started by mpirun (an MPI build
// only); otherwise nothing, and the process is a group of one.
void start_ranks(int& argc, char**& argv);
// Called last in main with its exit code: finalises MPI, or, for a failure (exit code 1 or 2)
// in a group of several, aborts the job, since the other ranks may be waiting for this one.
int finish_ranks(int exit_code);

}  // namespace attn
