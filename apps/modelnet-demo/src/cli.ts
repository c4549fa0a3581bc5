#!/usr/bin/env node
/**
 * The app's command line: `node dist/cli.js <train|test|download> [options]`, run through the
 * package scripts (`pnpm --filter modelnet-demo train|eval|download`), which build the workspace
 * first. `train` and `test` call `launch()` from here, at the top level of the entry script, as
 * its contract requires: with `--num-gpus N` it re-runs this script, with the same arguments,
 * once per worker.
 */
import { doctorCommand } from './doctor-command.js';
import { downloadCommand } from './download-command.js';
import { runCommand } from './errors.js';
import { exportCommand } from './export-command.js';
import { testCommand } from './test.js';
import { trainCommand } from './train.js';

// TensorFlow's C++ start-up notes (CPU instruction sets) are noise here; set it to 0 to see them.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

const USAGE = `usage: node dist/cli.js <command> [options]

commands:
  train      train PointNet (default config: configs/default.yaml, synthetic shapes)
  test       evaluate a checkpoint: accuracies, per-class table, confusion matrix PNG + CSV
  download   download ModelNet40 into data/ (for configs/modelnet40.yaml)
  export     export a checkpoint's weights for PyTorch (safetensors, load_state_dict strict)
  doctor     report backends, CUDA libraries, CPU, GPUs, MPI, /dev/shm and versions (--json)

Run '<command> --help' for its options. Through pnpm: pnpm --filter modelnet-demo train|eval|download.`;

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<void>> = {
  train: trainCommand,
  test: testCommand,
  download: downloadCommand,
  export: exportCommand,
  doctor: doctorCommand,
};

const [name, ...argv] = process.argv.slice(2);
const command = name === undefined ? undefined : COMMANDS[name];
if (command !== undefined) {
  await runCommand(() => command(argv));
} else if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(`${USAGE}\n`);
} else {
  process.stderr.write(`error: unknown command '${name}'\n${USAGE}\n`);
  process.exitCode = 2; // a user error, like every other bad argument
}
