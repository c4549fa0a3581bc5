// The MPI thread of the binding: a FIFO queue of jobs, run one after the other on one dedicated
// thread, whose results settle Promises on the JS thread through a thread-safe function.
//
// Threading: every MPI call of the process (MPI_Init_thread included) runs on one dedicated
// thread owned by this addon, fed by a FIFO queue. JavaScript enqueues a job and gets a Promise;
// the MPI thread runs the jobs one after the other and hands each result back to the JS thread
// through a thread-safe function, which resolves the Promise. Hence:
// - Node's event loop never blocks on MPI: a collective that waits for a slow rank waits on the
//   MPI thread, while timers, I/O and the next batch's host copies go on;
// - collectives run in call order (the order in which JS enqueued them), as MPI requires, with no
//   JS-side chaining;
// - MPI_THREAD_FUNNELED is enough (only the thread that called MPI_Init_thread calls MPI), the
//   level every MPI library provides, without the locking cost of MPI_THREAD_MULTIPLE;
// - a typed array is pinned by a strong reference while its job is queued or running, so its
//   memory stays valid; JS must not touch it until the Promise settles (the backend contract).
// The exceptions: `abort()` calls MPI_Abort from the JS thread (it ends the whole job, from any
// thread in practice), and `finalizeSync()` blocks the JS thread until the MPI thread has
// finalised (used at process exit, when nothing is pending).
#ifndef GORILLA_DIST_MPI_THREAD_H_
#define GORILLA_DIST_MPI_THREAD_H_

#include <mpi.h>
#include <napi.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gorilla_mpi {

struct Runtime;

// One unit of work for the MPI thread.
struct Job {
  // The MPI function, for error messages (e.g. `MPI_Allreduce`).
  std::string what;
  // Runs on the MPI thread; returns an MPI error code and may set `detail`.
  std::function<int(std::string& detail)> run;
  // Runs on the JS thread after a successful `run`; builds the value the Promise resolves to.
  std::function<Napi::Value(Napi::Env)> result;
  // Settled on the JS thread (absent for synchronous jobs).
  std::optional<Napi::Promise::Deferred> deferred;
  // Keeps the typed arrays (and array buffers) the job reads or writes alive.
  std::vector<Napi::Reference<Napi::Value>> keep;
  // Synchronous jobs: the MPI thread fulfils this instead of calling back into JS.
  std::promise<int>* sync = nullptr;
  // The MPI thread ends after this job (MPI_Finalize).
  bool last = false;
  int error = MPI_SUCCESS;
  std::string detail;
};

void CallJs(Napi::Env env, Napi::Function, Runtime* runtime, Job* job);
using Tsfn = Napi::TypedThreadSafeFunction<Runtime, Job, CallJs>;

// The process-wide MPI state (MPI can be initialised once per process).
struct Runtime {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<Job*> queue;
  Tsfn tsfn;
  // JS thread only:
  bool started = false;
  bool stopping = false;
  napi_env owner = nullptr;
  size_t pending = 0;
  int rank = 0;  // cached when init resolves, so that the JS thread never calls MPI
  int size = 1;
  // MPI thread only (read by JS after init resolves):
  MPI_Comm local = MPI_COMM_NULL;
  bool ownsMpi = false;

  // Queues a job for the MPI thread (any thread).
  void Push(Job* job);
  // The MPI thread's loop: runs jobs until one marked `last`.
  void Loop();

 private:
  Job* Pop();
};

// The one runtime of the process; never freed (the MPI thread may outlive module teardown).
extern Runtime* const runtime;

// MPI's text for an error code.
std::string MpiErrorString(int code);

// Queues `job` and returns its Promise. JS thread only.
Napi::Value Enqueue(Napi::Env env, std::unique_ptr<Job> job);

}  // namespace gorilla_mpi

#endif  // GORILLA_DIST_MPI_THREAD_H_
