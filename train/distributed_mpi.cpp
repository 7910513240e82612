// Ranks over MPI (built with -DATTNLAB_MPI=ON). MPI starts only when mpirun launched this
// process, so the MPI build run without mpirun behaves exactly as the default build.
#include <mpi.h>

#include <algorithm>
#include <cstdlib>

#include "train/distributed.hpp"

namespace attn {

namespace {

Ranks g_world;
bool g_started = false;

// mpirun sets these in every rank it starts (OpenMPI's own, then PMIx's and PMI's).
bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

// Sums count elements at a time: MPI counts are int.
template <class T>
void sum_in_place(T* x, size_t n, MPI_Datatype type) {
  const size_t chunk = size_t(1) << 30;
  for (size_t at = 0; at < n; at += chunk)
    MPI_Allreduce(MPI_IN_PLACE, x + at, int(std::min(chunk, n - at)), type, MPI_SUM, MPI_COMM_WORLD);
}

}  // namespace

// Adds the lifetime of a collective to communication_seconds().
struct CommTimer {
  const Ranks& r;
  double t0 = MPI_Wtime();
  ~CommTimer() { r.comm_seconds_ += MPI_Wtime() - t0; }
};

const Ranks& Ranks::world() { return g_world; }

void Ranks::sum(float* x, size_t n) const {
  if (!many()) return;
  CommTimer t{*this};
  sum_in_place(x, n, MPI_FLOAT);
}

void Ranks::sum(double* x, size_t n) const {
  if (!many()) return;
  CommTimer t{*this};
  sum_in_place(x, n, MPI_DOUBLE);
}

std::vector<std::string> Ranks::gather(const std::string& mine) const {
  if (!many()) return {mine};
  CommTimer t{*this};
  std::vector<int> sizes(size_), offsets(size_);
  int n = (int)mine.size();
  MPI_Allgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    offsets[r] = total;
    total += sizes[r];
  }
  std::string all(total, '\0');
  MPI_Allgatherv(mine.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, MPI_COMM_WORLD);
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(offsets[r], sizes[r]));
  return out;
}

void Ranks::barrier() const {
  if (!many()) return;
  CommTimer t{*this};
  MPI_Barrier(MPI_COMM_WORLD);
}

void Ranks::abort(int code) const {
  if (g_started) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

void start_ranks(int& argc, char**& argv) {
  if (!launched_by_mpirun()) return;
  int provided = 0;  // OpenMP threads compute; only the main thread calls MPI
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  g_started = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &g_world.size_);
}

int finish_ranks(int exit_code) {
  if (!g_started) return exit_code;
  if ((exit_code == 1 || exit_code == 2) && g_world.many()) g_world.abort(exit_code);
  MPI_Finalize();
  return exit_code;
}

}  // namespace attn
