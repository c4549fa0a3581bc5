import { Command } from 'commander';
import { collectDoctorReport, formatDoctorReport } from './doctor.js';

/** The command line of `doctor`. */
export function getDoctorParser(): Command {
  return new Command('doctor')
    .description(
      'Report what this machine offers gorilla-ts: Node, the TensorFlow.js backends, CUDA libraries, CPU, GPUs, MPI, /dev/shm and package versions',
    )
    .option('--json', 'print the report as JSON (for bug reports)', false)
    .option('--no-load', 'do not load each backend in a child process (faster)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

/**
 * `doctor [--json] [--no-load]`: prints the report of {@link collectDoctorReport}, as text or JSON.
 * A bad option prints the usage and sets exit code 2.
 */
export async function doctorCommand(argv: readonly string[]): Promise<void> {
  const parser = getDoctorParser();
  let options: { json: boolean; load: boolean };
  try {
    options = parser.parse([...argv], { from: 'user' }).opts<{ json: boolean; load: boolean }>();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return;
    process.exitCode = 2;
    return;
  }
  const report = await collectDoctorReport({ skipLoad: !options.load });
  process.stdout.write(
    options.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report),
  );
}
