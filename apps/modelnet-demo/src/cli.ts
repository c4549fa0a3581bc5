#!/usr/bin/env node
/**
 * The app's command line: `node dist/cli.js <command> [options]`, run through the package
 * scripts (`pnpm --filter modelnet-demo train|eval|download`), which build the workspace first.
 * The command level is a commander program ({@link buildProgram}); each command parses its own
 * options with its own commander parser, so a command is a module exporting
 * `(argv) => Promise<void>` added to {@link COMMANDS}. `train` and `test` call `launch()` from
 * here, at the top level of the entry script, as its contract requires: with `--num-gpus N` it
 * re-runs this script, with the same arguments, once per worker.
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { doctorCommand } from './doctor-command.js';
import { downloadCommand } from './download-command.js';
import { runCommand, USER_ERROR_EXIT_CODE } from './errors.js';
import { exportCommand } from './export-command.js';
import { testCommand } from './test.js';
import { trainCommand } from './train.js';

/** One command of the CLI. */
export interface CliCommand {
  /** The name typed on the command line. */
  readonly name: string;
  /** Other names for it (`eval` for `test`). */
  readonly aliases?: readonly string[];
  /** One line for the command list. */
  readonly description: string;
  /** Runs the command with the arguments after its name; it parses them itself. */
  readonly run: (argv: readonly string[]) => Promise<void>;
}

/** The commands, in the order `--help` lists them. Add a command here. */
export const COMMANDS: readonly CliCommand[] = [
  {
    name: 'train',
    description: 'train PointNet (default config: configs/default.yaml, synthetic shapes)',
    run: trainCommand,
  },
  {
    name: 'test',
    aliases: ['eval'],
    description:
      'evaluate a checkpoint: accuracies, per-class table, confusion matrix (SVG, PNG, CSV), HTML report',
    run: testCommand,
  },
  {
    name: 'download',
    description: 'download ModelNet40 into data/ (for configs/modelnet40.yaml)',
    run: downloadCommand,
  },
  {
    name: 'export',
    description: "export a checkpoint's weights for PyTorch (safetensors, load_state_dict strict)",
    run: exportCommand,
  },
  {
    name: 'doctor',
    description: 'report backends, CUDA libraries, CPU, GPUs, MPI, /dev/shm and versions (--json)',
    run: doctorCommand,
  },
];

/**
 * The command level as a commander program: `--help` lists {@link COMMANDS}, an unknown command
 * gets commander's suggestion (`trian` → `train`). The chosen command's arguments (everything
 * after its name) go to its `run` untouched; `--verbose` anywhere shows TensorFlow's C++ notes.
 */
export function buildProgram(
  argv: readonly string[],
  commands: readonly CliCommand[] = COMMANDS,
): { program: Command; ran: () => Promise<void> | undefined } {
  let pending: Promise<void> | undefined;
  const program = new Command('modelnet-demo')
    .description('PointNet on ModelNet with gorilla-ts, like gorilla-core plain_train.py')
    .usage('<command> [options]')
    // Read before parsing (see below); declared here so that --help lists it.
    .option('--verbose', "show TensorFlow's C++ start-up notes (any command)")
    .showSuggestionAfterError(true)
    .helpCommand(false)
    .exitOverride()
    .addHelpText(
      'after',
      "\nRun '<command> --help' for its options. Through pnpm: pnpm --filter modelnet-demo train|eval|download.",
    );
  for (const command of commands) {
    const sub = program
      .command(command.name)
      .description(command.description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]')
      .action(() => {
        // The arguments as typed after the command's name: the command's own parser reads them.
        pending = command.run(argv.slice(1));
      });
    for (const alias of command.aliases ?? []) sub.alias(alias);
  }
  return { program, ran: () => pending };
}

/** Parses the command level and runs the command; returns the exit code of a usage error. */
export async function main(argv: readonly string[]): Promise<void> {
  const { program, ran } = buildProgram(argv);
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return;
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; an unknown command is a user error (commander printed it).
      process.exitCode = error.exitCode === 0 ? 0 : USER_ERROR_EXIT_CODE;
      return;
    }
    throw error;
  }
  const pending = ran();
  if (pending !== undefined) await runCommand(() => pending);
}

const userArgs = process.argv.slice(2);
// TensorFlow's C++ start-up notes (oneDNN, CPU instruction sets, absl) are noise: quiet unless
// --verbose (or the user's own TF_CPP_MIN_LOG_LEVEL). tfjs-node reads this when it loads, later.
if (userArgs.includes('--verbose')) process.env.TF_CPP_MIN_LOG_LEVEL = '0';
else process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(userArgs.filter((arg) => arg !== '--verbose'));
}
