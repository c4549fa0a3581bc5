// The functions the addon exports to JavaScript (see src/addon.ts for their types).
#ifndef GORILLA_DIST_MPI_BINDING_H_
#define GORILLA_DIST_MPI_BINDING_H_

#include <napi.h>

namespace gorilla_mpi {

// mpi_lifecycle.cc
Napi::Value Init(const Napi::CallbackInfo& info);
Napi::Value Finalize(const Napi::CallbackInfo& info);
Napi::Value FinalizeSync(const Napi::CallbackInfo& info);
Napi::Value Abort(const Napi::CallbackInfo& info);
Napi::Value GetLibraryVersion(const Napi::CallbackInfo& info);

// mpi_collectives.cc
Napi::Value AllReduce(const Napi::CallbackInfo& info);
Napi::Value Broadcast(const Napi::CallbackInfo& info);
Napi::Value AllGather(const Napi::CallbackInfo& info);
Napi::Value Gather(const Napi::CallbackInfo& info);
Napi::Value AllGatherBytes(const Napi::CallbackInfo& info);
Napi::Value Barrier(const Napi::CallbackInfo& info);

}  // namespace gorilla_mpi

#endif  // GORILLA_DIST_MPI_BINDING_H_
