/**
 * The `doctor` command: `@gorilla-ts/train`'s `gorilla-ts doctor` (backends, CUDA libraries, CPU,
 * GPUs, MPI, /dev/shm, package versions), `--json` for bug reports.
 */
import { doctorCommand as trainDoctor } from '@gorilla-ts/train/doctor';

/** The `doctor` command: `doctor [--json] [--no-load]`. */
export async function doctorCommand(argv: readonly string[]): Promise<void> {
  await trainDoctor(argv);
}
