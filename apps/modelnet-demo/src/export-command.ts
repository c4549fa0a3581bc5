/**
 * The `export` command: `export <checkpoint> --to pytorch <out.safetensors>` writes a checkpoint's
 * weights (no optimizer slots, integers as int64) for PyTorch, loadable by gorilla3d's
 * `PointNetCls` with `load_state_dict(strict=True)`.
 */
import { exportForPytorch } from '@gorilla-ts/train';
import { Command, Option } from 'commander';
import { AppError } from './errors.js';

/** The options of `export`. */
export interface ExportOptions {
  to: 'pytorch';
  addPrefix?: string;
}

/** The command line of `export`. */
export function getParser(): Command {
  return new Command('export')
    .description("Export a checkpoint's weights for another framework (PyTorch: safetensors)")
    .argument('<checkpoint>', 'a gorilla-ts checkpoint (.safetensors)')
    .argument('<out>', 'the file to write, e.g. pointnet.safetensors')
    .addOption(
      new Option('--to <framework>', 'the framework to load the weights')
        .choices(['pytorch'])
        .makeOptionMandatory(),
    )
    .option(
      '--add-prefix <prefix>',
      "put before every name (e.g. 'module.' for a DDP-wrapped model)",
    )
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

/**
 * The `export` command. Prints what it wrote and the two lines of PyTorch that load it.
 *
 * @throws `CheckpointError` for a missing or foreign checkpoint (exit code 2), `AppError`
 *   `APP_INVALID_ARGUMENT` for bad arguments.
 */
export async function exportCommand(argv: readonly string[]): Promise<void> {
  const parser = getParser();
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(parser.helpInformation());
    return;
  }
  let checkpoint: string;
  let out: string;
  let options: ExportOptions;
  try {
    parser.parse([...argv], { from: 'user' });
    [checkpoint, out] = parser.processedArgs as [string, string];
    options = parser.opts<ExportOptions>();
  } catch (error) {
    throw new AppError(
      'APP_INVALID_ARGUMENT',
      `export: ${(error as Error).message.replace(/^error: /, '')}\nusage: export <checkpoint> --to pytorch <out.safetensors> [--add-prefix module.]`,
      { cause: error },
    );
  }
  const result = await exportForPytorch(checkpoint, out, {
    ...(options.addPrefix === undefined ? {} : { addPrefix: options.addPrefix }),
  });
  const dropped =
    result.dropped.length > 0 ? ` (left out ${result.dropped.length} optimizer tensors)` : '';
  process.stdout.write(
    `Wrote ${result.names.length} tensors to ${result.filename}${dropped}.\n` +
      'Load them in PyTorch:\n' +
      '  from safetensors.torch import load_file\n' +
      `  model.load_state_dict(load_file(${JSON.stringify(result.filename)}), strict=True)\n`,
  );
}
