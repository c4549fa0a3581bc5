// The collectives: each queues one job for the MPI thread and returns its Promise.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mpi_binding.h"
#include "mpi_thread.h"

namespace gorilla_mpi {

namespace {

// Where a typed array's bytes are, and what they hold.
struct View {
  char* data;
  size_t length;  // elements
  size_t elementSize;
  MPI_Datatype type;
};

View ViewOf(Napi::Env env, Napi::Value value, const char* operation) {
  if (!value.IsTypedArray()) {
    throw Napi::TypeError::New(env, std::string(operation) + " expects a typed array");
  }
  napi_typedarray_type kind;
  size_t length = 0;
  void* data = nullptr;
  napi_status status =
      napi_get_typedarray_info(env, value, &kind, &length, &data, nullptr, nullptr);
  NAPI_THROW_IF_FAILED(env, status, View{});
  View view{static_cast<char*>(data), length, 0, MPI_DATATYPE_NULL};
  switch (kind) {
    case napi_int8_array: view = {view.data, length, 1, MPI_INT8_T}; break;
    case napi_uint8_array: view = {view.data, length, 1, MPI_UINT8_T}; break;
    case napi_int16_array: view = {view.data, length, 2, MPI_INT16_T}; break;
    case napi_uint16_array: view = {view.data, length, 2, MPI_UINT16_T}; break;
    case napi_int32_array: view = {view.data, length, 4, MPI_INT32_T}; break;
    case napi_uint32_array: view = {view.data, length, 4, MPI_UINT32_T}; break;
    case napi_float32_array: view = {view.data, length, 4, MPI_FLOAT}; break;
    case napi_float64_array: view = {view.data, length, 8, MPI_DOUBLE}; break;
    default:
      throw Napi::TypeError::New(
          env, std::string(operation) +
                   " supports Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, "
                   "Uint8Array, Uint16Array and Uint32Array");
  }
  return view;
}

// Element counts of MPI calls are `int`: longer buffers go in slices.
constexpr size_t kMaxCount = 1u << 30;

template <typename Call>
int Sliced(const View& view, Call call) {
  for (size_t offset = 0; offset < view.length; offset += kMaxCount) {
    const int count = static_cast<int>(std::min(kMaxCount, view.length - offset));
    const int error = call(view.data + offset * view.elementSize, count);
    if (error != MPI_SUCCESS) return error;
  }
  return MPI_SUCCESS;
}

int CheckedCount(Napi::Env env, const View& view, const char* operation) {
  if (view.length > static_cast<size_t>(INT_MAX)) {
    throw Napi::RangeError::New(env, std::string(operation) +
                                         " supports at most 2^31 - 1 elements per rank");
  }
  return static_cast<int>(view.length);
}

MPI_Op ReduceOp(Napi::Env env, Napi::Value value) {
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (name == "sum") return MPI_SUM;
  if (name == "max") return MPI_MAX;
  if (name == "min") return MPI_MIN;
  throw Napi::TypeError::New(env, "allReduce: op must be 'sum', 'max' or 'min'");
}

int RootOf(Napi::Env env, Napi::Value value, const char* operation) {
  if (!value.IsNumber()) throw Napi::TypeError::New(env, std::string(operation) + ": root must be a rank");
  const int root = value.As<Napi::Number>().Int32Value();
  if (root < 0 || root >= runtime->size) {
    throw Napi::RangeError::New(env, std::string(operation) + ": root must be a rank in [0, size)");
  }
  return root;
}

template <typename T>
int WideSumOf(const View& view) {
  T* data = reinterpret_cast<T*>(view.data);
  std::vector<int32_t> wide(data, data + view.length);
  View wideView{reinterpret_cast<char*>(wide.data()), view.length, 4, MPI_INT32_T};
  const int error = Sliced(wideView, [](char* part, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, part, count, MPI_INT32_T, MPI_SUM, MPI_COMM_WORLD);
  });
  if (error != MPI_SUCCESS) return error;
  for (size_t i = 0; i < view.length; i++) data[i] = static_cast<T>(static_cast<uint32_t>(wide[i]));
  return MPI_SUCCESS;
}

// Sums of 8- and 16-bit integers go through 32-bit integers: Open MPI 4.1's AVX reductions
// saturate them (open-mpi/ompi#8045, closed as won't fix), where they must wrap like the array
// type does. The sum modulo 2^32 narrowed to 8 or 16 bits is the wrapped sum.
int WideSum(const View& view) {
  if (view.type == MPI_INT8_T) return WideSumOf<int8_t>(view);
  if (view.type == MPI_UINT8_T) return WideSumOf<uint8_t>(view);
  if (view.type == MPI_INT16_T) return WideSumOf<int16_t>(view);
  return WideSumOf<uint16_t>(view);
}

}  // namespace

// allReduce(typedArray, 'sum' | 'max' | 'min'): Promise<void>, in place.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View view = ViewOf(env, info[0], "allReduce");
  const MPI_Op op = ReduceOp(env, info[1]);
  auto job = std::make_unique<Job>();
  job->what = "MPI_Allreduce";
  job->keep.emplace_back(Napi::Persistent(info[0]));
  job->run = [view, op](std::string&) {
    if (op == MPI_SUM && view.elementSize < 4) return WideSum(view);
    return Sliced(view, [&](char* data, int count) {
      return MPI_Allreduce(MPI_IN_PLACE, data, count, view.type, op, MPI_COMM_WORLD);
    });
  };
  return Enqueue(env, std::move(job));
}

// broadcast(typedArray, root): Promise<void>, in place.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View view = ViewOf(env, info[0], "broadcast");
  const int root = RootOf(env, info[1], "broadcast");
  auto job = std::make_unique<Job>();
  job->what = "MPI_Bcast";
  job->keep.emplace_back(Napi::Persistent(info[0]));
  job->run = [view, root](std::string&) {
    return Sliced(view, [&](char* data, int count) {
      return MPI_Bcast(data, count, view.type, root, MPI_COMM_WORLD);
    });
  };
  return Enqueue(env, std::move(job));
}

// allGather(typedArray): Promise<ArrayBuffer> holding every rank's elements, in rank order.
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View view = ViewOf(env, info[0], "allGather");
  const int count = CheckedCount(env, view, "allGather");
  const size_t bytes = view.length * view.elementSize * static_cast<size_t>(runtime->size);
  Napi::ArrayBuffer output = Napi::ArrayBuffer::New(env, bytes);
  char* out = static_cast<char*>(output.Data());
  auto job = std::make_unique<Job>();
  job->what = "MPI_Allgather";
  job->keep.emplace_back(Napi::Persistent(info[0]));
  job->keep.emplace_back(Napi::Persistent(output.As<Napi::Value>()));
  job->run = [view, count, out](std::string&) {
    if (count == 0) return MPI_SUCCESS;
    return MPI_Allgather(view.data, count, view.type, out, count, view.type, MPI_COMM_WORLD);
  };
  Napi::Reference<Napi::Value>* kept = &job->keep.back();
  job->result = [kept](Napi::Env) { return kept->Value(); };
  return Enqueue(env, std::move(job));
}

// gather(typedArray, root): Promise<ArrayBuffer | null>; the buffer on `root` only.
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View view = ViewOf(env, info[0], "gather");
  const int root = RootOf(env, info[1], "gather");
  const int count = CheckedCount(env, view, "gather");
  auto job = std::make_unique<Job>();
  job->what = "MPI_Gather";
  job->keep.emplace_back(Napi::Persistent(info[0]));
  char* out = nullptr;
  if (runtime->rank == root) {
    Napi::ArrayBuffer output =
        Napi::ArrayBuffer::New(env, view.length * view.elementSize * static_cast<size_t>(runtime->size));
    out = static_cast<char*>(output.Data());
    job->keep.emplace_back(Napi::Persistent(output.As<Napi::Value>()));
    Napi::Reference<Napi::Value>* kept = &job->keep.back();
    job->result = [kept](Napi::Env) { return kept->Value(); };
  } else {
    job->result = [](Napi::Env env) { return env.Null(); };
  }
  job->run = [view, count, out, root](std::string&) {
    if (count == 0) return MPI_SUCCESS;
    return MPI_Gather(view.data, count, view.type, out, count, view.type, root, MPI_COMM_WORLD);
  };
  return Enqueue(env, std::move(job));
}

// allGatherBytes(uint8Array): Promise<{ data: ArrayBuffer, sizes: Int32Array }>: every rank's
// bytes, of any length, concatenated in rank order (MPI_Allgather of the lengths, then
// MPI_Allgatherv).
Napi::Value AllGatherBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View view = ViewOf(env, info[0], "allGatherBytes");
  if (view.type != MPI_UINT8_T) throw Napi::TypeError::New(env, "allGatherBytes expects a Uint8Array");
  const int count = CheckedCount(env, view, "allGatherBytes");
  struct Gathered {
    std::vector<int> sizes;
    std::vector<char> data;
  };
  auto gathered = std::make_shared<Gathered>();
  auto job = std::make_unique<Job>();
  job->what = "MPI_Allgatherv";
  job->keep.emplace_back(Napi::Persistent(info[0]));
  const int size = runtime->size;
  job->run = [view, count, size, gathered](std::string& detail) {
    gathered->sizes.assign(static_cast<size_t>(size), 0);
    int mine = count;
    int error = MPI_Allgather(&mine, 1, MPI_INT, gathered->sizes.data(), 1, MPI_INT, MPI_COMM_WORLD);
    if (error != MPI_SUCCESS) return error;
    std::vector<int> offsets(static_cast<size_t>(size), 0);
    size_t total = 0;
    for (int r = 0; r < size; r++) {
      offsets[static_cast<size_t>(r)] = static_cast<int>(total);
      total += static_cast<size_t>(gathered->sizes[static_cast<size_t>(r)]);
      if (total > static_cast<size_t>(INT_MAX)) {
        detail = "the gathered bytes exceed 2^31 - 1";
        return MPI_ERR_COUNT;
      }
    }
    gathered->data.resize(std::max<size_t>(total, 1));
    return MPI_Allgatherv(view.data, count, MPI_BYTE, gathered->data.data(),
                          gathered->sizes.data(), offsets.data(), MPI_BYTE, MPI_COMM_WORLD);
  };
  job->result = [gathered](Napi::Env env) -> Napi::Value {
    size_t total = 0;
    for (int size : gathered->sizes) total += static_cast<size_t>(size);
    Napi::ArrayBuffer data = Napi::ArrayBuffer::New(env, total);
    if (total > 0) std::memcpy(data.Data(), gathered->data.data(), total);
    Napi::Int32Array sizes = Napi::Int32Array::New(env, gathered->sizes.size());
    std::copy(gathered->sizes.begin(), gathered->sizes.end(), sizes.Data());
    Napi::Object object = Napi::Object::New(env);
    object.Set("data", data);
    object.Set("sizes", sizes);
    return object;
  };
  return Enqueue(env, std::move(job));
}

// barrier(): Promise<void>.
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  auto job = std::make_unique<Job>();
  job->what = "MPI_Barrier";
  job->run = [](std::string&) { return MPI_Barrier(MPI_COMM_WORLD); };
  return Enqueue(info.Env(), std::move(job));
}

}  // namespace gorilla_mpi
