#include "mpi_thread.h"

#include <utility>

namespace gorilla_mpi {

Runtime* const runtime = new Runtime();

void Runtime::Push(Job* job) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    queue.push_back(job);
  }
  ready.notify_one();
}

Job* Runtime::Pop() {
  std::unique_lock<std::mutex> lock(mutex);
  ready.wait(lock, [this] { return !queue.empty(); });
  Job* job = queue.front();
  queue.pop_front();
  return job;
}

void Runtime::Loop() {
  for (;;) {
    Job* job = Pop();
    const bool last = job->last;
    job->error = job->run(job->detail);
    if (job->sync != nullptr) {
      job->sync->set_value(job->error);  // the waiting JS thread owns the job
    } else if (tsfn.BlockingCall(job) != napi_ok) {
      // The environment is shutting down: nobody awaits the result any more. The job's
      // references can only be released on the JS thread, so it is left as it is.
    }
    if (last) return;  // the JS thread releases the thread-safe function
  }
}

std::string MpiErrorString(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length));
}

void CallJs(Napi::Env env, Napi::Function, Runtime* state, Job* job) {
  if (env == nullptr) return;  // shutting down; see Loop()
  std::unique_ptr<Job> owned(job);
  Napi::HandleScope scope(env);
  if (--state->pending == 0) state->tsfn.Unref(env);
  if (job->last) state->tsfn.Release();
  if (job->error == MPI_SUCCESS) {
    Napi::Value value = job->result ? job->result(env) : env.Undefined();
    job->deferred->Resolve(value);
    return;
  }
  std::string message = job->what + " failed: ";
  message += job->detail.empty() ? MpiErrorString(job->error) : job->detail;
  Napi::Error error = Napi::Error::New(env, message);
  int errorClass = job->error;
  if (job->detail.empty()) MPI_Error_class(job->error, &errorClass);
  error.Value().Set("mpiErrorClass", Napi::Number::New(env, errorClass));
  error.Value().Set("mpiFunction", Napi::String::New(env, job->what));
  job->deferred->Reject(error.Value());
}

Napi::Value Enqueue(Napi::Env env, std::unique_ptr<Job> job) {
  if (!runtime->started || runtime->owner != static_cast<napi_env>(env)) {
    throw Napi::Error::New(env, "MPI is not initialised in this thread: call init() first");
  }
  if (runtime->stopping) {
    throw Napi::Error::New(env, "MPI was finalised: no more MPI calls are possible in this process");
  }
  job->deferred.emplace(Napi::Promise::Deferred::New(env));
  Napi::Promise promise = job->deferred->Promise();
  if (runtime->pending++ == 0) runtime->tsfn.Ref(env);
  runtime->Push(job.release());
  return promise;
}

}  // namespace gorilla_mpi
