/**
 * TensorFlow's C++ start-up notes, kept out of the user's terminal.
 *
 * libtensorflow logs through absl, and absl writes every message logged before
 * `absl::InitializeLog()` to the process's stderr whatever its level
 * (abseil/abseil-cpp#1718, #1957): `TF_CPP_MIN_LOG_LEVEL` cannot hide the notes that
 * libtensorflow prints while it loads (`All log messages before absl::InitializeLog()...`,
 * `oneDNN custom operations are on...`). Node has no `dup2`, so while the native library
 * loads, file descriptor 2 is pointed at an unlinked temporary file (close 2, then open: POSIX
 * hands out the lowest free number), and afterwards back at the original stderr (reopened
 * through `/proc/self/fd`). What TensorFlow wrote meanwhile is filtered by the level
 * `TF_CPP_MIN_LOG_LEVEL` asks for, and everything else (warnings and errors at a level the
 * user keeps, and any line that is not absl's) is written on to the real stderr.
 *
 * Only on Linux, and only where stderr is a terminal, a pipe or a file opened for appending:
 * another file cannot be reopened at its current offset without `lseek` (the notes stay there,
 * as before), and a socket cannot be reopened at all. @internal
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STDERR = 2;

/** absl's prefix: severity letter, MMDD, time, thread id, file:line, `]`. */
const ABSL_LINE = /^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\s\]]+:\d+\] /;
/** absl's own notice that logging is not initialised yet: a warning about nothing the user did. */
const ABSL_NOT_INITIALISED =
  /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/;
const LEVELS: Record<string, number> = { I: 0, W: 1, E: 2, F: 3 };

/**
 * The lowest level shown, from `TF_CPP_MIN_LOG_LEVEL` (0 info, 1 warnings, 2 errors, 3 fatal
 * only), as TensorFlow reads it. Unset or malformed: 0, TensorFlow's default.
 */
export function minLogLevel(
  env: Readonly<Record<string, string | undefined>> = process.env,
): number {
  const level = Number(env.TF_CPP_MIN_LOG_LEVEL);
  return Number.isInteger(level) && level >= 0 ? Math.min(level, 3) : 0;
}

/**
 * The lines of `text` that `TF_CPP_MIN_LOG_LEVEL` = `level` lets through: absl lines below the
 * level are dropped with the lines that continue them; so is absl's not-initialised notice
 * when info is hidden. Anything else is kept.
 */
export function filterNativeChatter(text: string, level: number): string {
  if (level <= 0 || text.length === 0) return text;
  const kept: string[] = [];
  let dropping = false;
  const lines = text.split('\n');
  const last = lines.pop(); // '' when the text ends with a newline
  for (const line of lines) {
    const absl = ABSL_LINE.exec(line);
    if (absl) dropping = (LEVELS[absl[1]!] ?? 0) < level;
    else if (ABSL_NOT_INITIALISED.test(line)) dropping = true;
    else if (!/^\s/.test(line) && !/^To enable the following instructions/.test(line))
      dropping = false; // a line of its own; indented or known continuations follow their head
    if (!dropping) kept.push(line);
  }
  if (last !== undefined && last.length > 0 && !dropping) kept.push(last);
  return kept.length === 0 ? '' : `${kept.join('\n')}${text.endsWith('\n') ? '\n' : ''}`;
}

/** How fd 2 can be reopened, or why it cannot. */
function reopenFlags(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  let stat: import('node:fs').BigIntStats;
  try {
    // bigint: Node's realpath (used by require) reads the last plain stat's type from a shared
    // array and stops resolving symlinks after a FIFO's; bigint stats use another array.
    stat = fstatSync(STDERR, { bigint: true });
  } catch {
    return undefined;
  }
  if (stat.isCharacterDevice()) return constants.O_WRONLY;
  // O_NONBLOCK: opening a pipe whose reader is gone fails at once instead of waiting forever
  // (libuv makes a pipe stderr non-blocking anyway).
  if (stat.isFIFO()) return constants.O_WRONLY | constants.O_NONBLOCK;
  // A file opened for appending (`2>>log`): every write goes to its end, so a reopened
  // descriptor writes where the original would. Any other file keeps the notes.
  if (stat.isFile() && openedForAppend()) return constants.O_WRONLY | constants.O_APPEND;
  return undefined;
}

/** Whether descriptor 2 was opened with O_APPEND (its flags, in octal, in /proc/self/fdinfo/2). */
function openedForAppend(): boolean {
  try {
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${STDERR}`, 'utf8'));
    return flags !== null && (Number.parseInt(flags[1]!, 8) & constants.O_APPEND) !== 0;
  } catch {
    return false;
  }
}

/**
 * Runs `load` (synchronous: a `require` of a native addon) with TensorFlow's start-up notes
 * filtered out of stderr by {@link filterNativeChatter}; the rest reaches stderr after `load`
 * returns or throws. Runs `load` unchanged where stderr cannot be swapped (see the module's
 * notes) or when the level shows everything.
 */
export function withNativeChatterFiltered<T>(load: () => T, level: number = minLogLevel()): T {
  const flags = level > 0 ? reopenFlags() : undefined;
  if (flags === undefined) return load();
  let original: number;
  try {
    original = openSync(`/proc/self/fd/${STDERR}`, flags);
  } catch {
    return load();
  }
  const capturePath = join(tmpdir(), `.gorilla-ts-tf-notes-${process.pid}-${Date.now()}`);
  let captured: number | undefined;
  closeSync(STDERR);
  try {
    captured = openSync(capturePath, 'wx+', 0o600);
    unlinkSync(capturePath); // never left behind, whatever happens below
  } catch {
    if (captured !== undefined) closeSync(captured);
    captured = undefined;
    rmSync(capturePath, { force: true });
  }
  if (captured !== STDERR) {
    // Another thread took descriptor 2 between close and open (not seen in practice): give
    // what can be given back and load without filtering.
    if (captured !== undefined) closeSync(captured);
    restore(original, flags);
    return load();
  }
  try {
    return load();
  } finally {
    const text = readAll(STDERR);
    closeSync(STDERR);
    restore(original, flags);
    const rest = filterNativeChatter(text, level);
    if (rest.length > 0) writeSync(STDERR, rest);
  }
}

/** Points descriptor 2 back at what `original` is, then closes `original`. */
function restore(original: number, flags: number): void {
  let fd: number;
  try {
    fd = openSync(`/proc/self/fd/${original}`, flags);
  } catch {
    // The reader of a pipe went away meanwhile: keep 2 taken, or the next file opened by
    // anyone would become stderr.
    fd = openSync('/dev/null', 'w');
  }
  if (fd !== STDERR) closeSync(fd); // 2 was taken meanwhile; nothing more can be done
  closeSync(original);
}

/** Everything written to `fd` so far (read by position: the write offset is not moved). */
function readAll(fd: number): string {
  const size = fstatSync(fd).size;
  if (size === 0) return '';
  const buffer = Buffer.alloc(Math.min(size, 1 << 20));
  const read = readSync(fd, buffer, 0, buffer.length, 0);
  return buffer.toString('utf8', 0, read);
}
