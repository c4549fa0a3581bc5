#!/usr/bin/env node
/**
 * The `gorilla-ts` command of `@gorilla-ts/train`: `gorilla-ts doctor [--json]`.
 *
 * @packageDocumentation
 */
import { doctorCommand } from './command.js';

const [name, ...argv] = process.argv.slice(2);
if (name === 'doctor') {
  await doctorCommand(argv);
} else {
  const usage =
    'usage: gorilla-ts doctor [--json]\n\n  doctor   report what this machine offers gorilla-ts (backends, CUDA, CPU, GPUs, MPI, /dev/shm, versions)\n';
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage);
  } else {
    process.stderr.write(`error: unknown command '${name}'\n${usage}`);
    process.exitCode = 2;
  }
}
