// Initialising and finalising MPI, aborting the job, and the library version.
#include <dlfcn.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "mpi_binding.h"
#include "mpi_thread.h"

namespace gorilla_mpi {

namespace {

// Open MPI (before 5) loads its components with dlopen, and they expect libmpi's symbols to be
// global. A Node addon is loaded RTLD_LOCAL, and so is libmpi with it: promote it to global.
void PromoteMpiLibrary() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &info) != 0 && info.dli_fname != nullptr) {
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
  }
}

const char* ThreadLevelName(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "single";
    case MPI_THREAD_FUNNELED: return "funneled";
    case MPI_THREAD_SERIALIZED: return "serialized";
    case MPI_THREAD_MULTIPLE: return "multiple";
    default: return "unknown";
  }
}

std::string LibraryVersion() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "";
  std::string version(text, static_cast<size_t>(length));
  while (!version.empty() && (version.back() == '\n' || version.back() == '\0')) version.pop_back();
  return version;
}

std::unique_ptr<Job> FinalizeJob() {
  auto job = std::make_unique<Job>();
  job->what = "MPI_Finalize";
  job->last = true;
  job->run = [](std::string&) {
    if (runtime->local != MPI_COMM_NULL) MPI_Comm_free(&runtime->local);
    return runtime->ownsMpi ? MPI_Finalize() : MPI_SUCCESS;
  };
  return job;
}

}  // namespace

// init(): Promise<{ rank, size, localRank, localSize, threadLevel, library, processor }>
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (runtime->started) {
    throw Napi::Error::New(
        env, runtime->stopping
                 ? "MPI was finalised: MPI cannot be initialised twice in one process"
                 : "MPI is already initialised in this process");
  }
  runtime->started = true;
  runtime->owner = env;
  runtime->tsfn = Tsfn::New(env, "gorilla-dist-mpi", 0, 1, runtime);
  struct Info {
    int rank = 0, size = 1, localRank = 0, localSize = 1, provided = MPI_THREAD_SINGLE;
    std::string library, processor;
  };
  auto result = std::make_shared<Info>();
  auto job = std::make_unique<Job>();
  job->what = "MPI_Init_thread";
  job->run = [result](std::string& detail) {
    int initialized = 0;
    int finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (finalized) {
      detail = "MPI was finalised already: it cannot be initialised twice in one process";
      return MPI_ERR_OTHER;
    }
    if (initialized) {
      MPI_Query_thread(&result->provided);
    } else {
      PromoteMpiLibrary();
      const int error =
          MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &result->provided);
      if (error != MPI_SUCCESS) return error;
      runtime->ownsMpi = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &result->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &result->size);
    int error = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, result->rank,
                                    MPI_INFO_NULL, &runtime->local);
    if (error != MPI_SUCCESS) return error;
    MPI_Comm_rank(runtime->local, &result->localRank);
    MPI_Comm_size(runtime->local, &result->localSize);
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    if (MPI_Get_processor_name(name, &length) == MPI_SUCCESS) {
      result->processor.assign(name, static_cast<size_t>(length));
    }
    result->library = LibraryVersion();
    return MPI_SUCCESS;
  };
  job->result = [result](Napi::Env env) -> Napi::Value {
    runtime->rank = result->rank;
    runtime->size = result->size;
    Napi::Object object = Napi::Object::New(env);
    object.Set("rank", result->rank);
    object.Set("size", result->size);
    object.Set("localRank", result->localRank);
    object.Set("localSize", result->localSize);
    object.Set("threadLevel", ThreadLevelName(result->provided));
    object.Set("library", result->library);
    object.Set("processor", result->processor);
    return object;
  };
  Napi::Value promise = Enqueue(env, std::move(job));
  std::thread([] { runtime->Loop(); }).detach();
  return promise;
}

// finalize(): Promise<void>. Runs after every job queued before it; the MPI thread then ends.
Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Napi::Value promise = Enqueue(info.Env(), FinalizeJob());
  runtime->stopping = true;
  return promise;
}

// finalizeSync(): void. Blocks until MPI is finalised; for process exit, with nothing pending.
Napi::Value FinalizeSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!runtime->started || runtime->stopping) return env.Undefined();
  runtime->stopping = true;
  std::unique_ptr<Job> job = FinalizeJob();
  std::promise<int> done;
  job->sync = &done;
  std::future<int> finished = done.get_future();
  runtime->Push(job.get());
  const int error = finished.get();
  runtime->tsfn.Release();
  if (error != MPI_SUCCESS) throw Napi::Error::New(env, "MPI_Finalize failed: " + MpiErrorString(error));
  return env.Undefined();
}

// abort(code): never returns. Ends every process of the MPI job (MPI_Abort).
Napi::Value Abort(const Napi::CallbackInfo& info) {
  const int code = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  _exit(code);
}

// libraryVersion(): string. Works before init (MPI_Get_library_version).
Napi::Value GetLibraryVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), LibraryVersion());
}

}  // namespace gorilla_mpi
