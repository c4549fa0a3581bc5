/**
 * `@gorilla-ts/train/doctor`: the report behind `gorilla-ts doctor`.
 *
 * @example
 * ```ts
 * import { collectDoctorReport, formatDoctorReport } from '@gorilla-ts/train/doctor';
 * process.stdout.write(formatDoctorReport(await collectDoctorReport()));
 * ```
 *
 * @packageDocumentation
 */
export { doctorCommand, getDoctorParser } from './command.js';
export {
  CUDA_LIBRARIES,
  collectDoctorReport,
  type DoctorBackend,
  type DoctorGpu,
  type DoctorLibrary,
  type DoctorOptions,
  type DoctorReport,
  formatDoctorReport,
} from './doctor.js';
