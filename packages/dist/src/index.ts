/**
 * `@gorilla-ts/dist`: multi-process launch, process groups and collectives over TCP, rank
 * helpers, distributed samplers and free-GPU selection.
 */

/** The version of this package. */
export const VERSION = '0.1.0';

export type {
  BackendReduceOp,
  NumericArray,
  ProcessGroupBackend,
  ReduceOp,
} from './backend.js';
export type {
  BackendFactoryOptions,
  MpiLauncherInfo,
  ProcessGroupBackendFactory,
  RegisterBackendOptions,
} from './backend-registry.js';
export {
  detectMpiLauncher,
  listProcessGroupBackends,
  registerProcessGroupBackend,
} from './backend-registry.js';
export type { DistErrorCode, DistErrorOptions, GpuInfo, WorkerErrorInfo } from './errors.js';
export {
  AddressInUseError,
  CollectiveTimeoutError,
  DistError,
  GpuUnavailableError,
  WorkerFailedError,
} from './errors.js';
export type { SetCudaVisibleDevicesOptions } from './gpu.js';
export { parseGpuQuery, queryGpuMemory, setCudaVisibleDevices } from './gpu.js';
export type { LaunchOptions } from './launch.js';
export { launch } from './launch.js';
export type { InitProcessGroupOptions } from './process-group.js';
export {
  allGather,
  allGatherObject,
  allReduce,
  barrier,
  broadcast,
  broadcastObject,
  destroyProcessGroup,
  gather,
  getLocalRank,
  getLocalSize,
  getRank,
  getWorldSize,
  initProcessGroup,
  isInitialized,
  isMainProcess,
  masterOnly,
  reduceDict,
  synchronize,
} from './process-group.js';
export { RandomGenerator, type RandomState, randomPermutation } from './rng.js';
export type {
  DistributedSamplerOptions,
  InferenceSamplerOptions,
  SamplerState,
} from './sampler.js';
export { DistributedSampler, InferenceSampler } from './sampler.js';
export { SHM_BYTES_PER_RANK, SHM_DIR } from './shm.js';
export type { TcpBackendOptions } from './tcp-backend.js';
export { TcpBackend } from './tcp-backend.js';
