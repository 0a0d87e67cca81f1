// `mpirun -np R dyad run CONFIG` (docs/cluster.md "MPI"). Rank 0 is the one process
// that opens the output: it makes every check and the claim a one-process run makes,
// hands work units (sim/core/shard.hpp) to ranks 1 .. R-1 as each asks for the next (a
// dynamic queue, as FLAME GPU 2's MPI ensembles), and writes each point through
// H5Writer once all its units are in (sim/app/unit_work.hpp). Built only when CMake
// finds MPI (DYAD_MPI); without it, and in a process not started by mpirun, there is
// one rank and `dyad run` is the one-process run.
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "sim/app/commands.hpp"
#include "sim/config/config.hpp"
#include "sim/io/h5_writer.hpp"

namespace dyad::app::mpi {

// MPI_Init_thread when this process was started by an MPI launcher, MPI_Finalize at
// the end; nothing otherwise (a binary built with MPI and run alone never touches it).
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

// "no (built without MPI)", or the MPI library's version line: what `dyad --version`
// prints, and how tests/scripts/test_mpi.py knows whether to run.
std::string built_with();

int rank();  // 0 without MPI
int size();  // 1 without MPI

// Rank 0: runs fn (app::run), then tells every other rank to end with fn's exit status
// (2 for an InputError, 1 for another error, which are rethrown).
int lead(const std::function<int()>& fn);

// Ranks >= 1: computes the units rank 0 sends until told to stop; returns the exit
// status rank 0 gave (128 + the signal if this rank was stopped by one).
int serve(const RunArgs& args);

// Rank 0, from app::run once the writer is open: computes through the other ranks
// every point not in `done` and writes it. Returns true if interrupted (`stop`, or a
// rank stopped by a signal). `points_written` counts the points written.
bool distribute(const Config& config, H5Writer& writer, const std::vector<int>& done, const std::atomic<bool>& stop,
                int& points_written);

}  // namespace dyad::app::mpi
