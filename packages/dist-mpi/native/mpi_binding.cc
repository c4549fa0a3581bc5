// The native side of @gorilla-ts/dist-mpi: a thin N-API binding to the system's MPI. See
// mpi_thread.h for the threading design.
#include <napi.h>

#include "mpi_binding.h"

namespace {

using namespace gorilla_mpi;

Napi::Object Initialize(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("allReduce", Napi::Function::New(env, AllReduce, "allReduce"));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast, "broadcast"));
  exports.Set("allGather", Napi::Function::New(env, AllGather, "allGather"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("allGatherBytes", Napi::Function::New(env, AllGatherBytes, "allGatherBytes"));
  exports.Set("barrier", Napi::Function::New(env, Barrier, "barrier"));
  exports.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  exports.Set("finalizeSync", Napi::Function::New(env, FinalizeSync, "finalizeSync"));
  exports.Set("abort", Napi::Function::New(env, Abort, "abort"));
  exports.Set("libraryVersion", Napi::Function::New(env, GetLibraryVersion, "libraryVersion"));
  return exports;
}

}  // namespace

NODE_API_MODULE(gorilla_dist_mpi, Initialize)
