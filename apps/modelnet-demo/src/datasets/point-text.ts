/**
 * A fast reader of point files in text form: one point per line, values separated by commas
 * and/or blanks (`x,y,z,nx,ny,nz`), as in modelnet40_normal_resampled.
 */

/** Rows read from a point text file. */
export interface PointRows {
  /** `rows × columns` values, row-major. */
  values: Float32Array;
  rows: number;
  columns: number;
}

const COMMA = 44;
const NEWLINE = 10;
const RETURN = 13;
const SPACE = 32;
const TAB = 9;
const POWERS = Array.from({ length: 23 }, (_, i) => 10 ** i);

const isSeparator = (byte: number): boolean =>
  byte === COMMA || byte === SPACE || byte === TAB || byte === RETURN;

/**
 * Parses up to `maxRows` rows of `bytes` (all when omitted). The column count is that of the first
 * non-empty line; a later row with another count is an error. Throws `SyntaxError` naming the line
 * on a token that is not a number or not finite (`nan`, `inf`).
 */
export function parsePointRows(bytes: Uint8Array, maxRows = Number.POSITIVE_INFINITY): PointRows {
  const length = bytes.length;
  let lineCount = 1;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) lineCount++;
  const columns = firstRowWidth(bytes);
  const values = new Float32Array(Math.min(lineCount, maxRows) * columns);
  let rows = 0;
  let position = 0;
  let line = 0;
  while (position < length && rows < maxRows) {
    line++;
    let column = 0;
    const base = rows * columns;
    while (position < length) {
      const byte = bytes[position]!;
      if (byte === NEWLINE) break;
      if (isSeparator(byte)) {
        position++;
        continue;
      }
      const start = position;
      while (position < length) {
        const b = bytes[position]!;
        if (b === NEWLINE || isSeparator(b)) break;
        position++;
      }
      if (column >= columns) throw new SyntaxError(`line ${line}: more than ${columns} values`);
      const value = parseNumber(bytes, start, position);
      if (!Number.isFinite(value)) {
        const token = new TextDecoder().decode(bytes.subarray(start, position));
        throw new SyntaxError(
          Number.isNaN(value) && !isNaNToken(bytes, start, position)
            ? `line ${line}: '${token}' is not a number`
            : `line ${line}, value ${column + 1}: '${token}' is not a finite number (points must have finite coordinates)`,
        );
      }
      values[base + column] = value;
      column++;
    }
    position++; // past the newline
    if (column === 0) continue; // a blank line
    if (column !== columns) {
      throw new SyntaxError(`line ${line}: ${column} values, expected ${columns}`);
    }
    rows++;
  }
  return { values: values.subarray(0, rows * columns), rows, columns };
}

/** The number of values on the first non-blank line (0 for an empty file). */
function firstRowWidth(bytes: Uint8Array): number {
  let count = 0;
  let inToken = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === NEWLINE) {
      if (count > 0) return count;
      inToken = false;
      continue;
    }
    if (isSeparator(byte)) {
      inToken = false;
    } else if (!inToken) {
      inToken = true;
      count++;
    }
  }
  return count;
}

function isNaNToken(bytes: Uint8Array, start: number, end: number): boolean {
  const token = new TextDecoder().decode(bytes.subarray(start, end)).toLowerCase();
  return token === 'nan' || token === '-nan' || token === '+nan';
}

/** Parses `bytes[start, end)` as a decimal number; `NaN` when it is not one. */
function parseNumber(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (bytes[i] === 45 || bytes[i] === 43) {
    negative = bytes[i] === 45;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let exponent = 0;
  let any = false;
  for (; i < end; i++) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) break;
    any = true;
    if (digits < 17) {
      mantissa = mantissa * 10 + d;
      if (mantissa !== 0) digits++;
    } else exponent++;
  }
  if (i < end && bytes[i] === 46) {
    i++;
    for (; i < end; i++) {
      const d = bytes[i]! - 48;
      if (d < 0 || d > 9) break;
      any = true;
      if (digits < 17) {
        mantissa = mantissa * 10 + d;
        if (mantissa !== 0) digits++;
        exponent--;
      }
    }
  }
  if (!any) return slowParse(bytes, start, end);
  if (i < end && (bytes[i] === 101 || bytes[i] === 69)) {
    i++;
    let expNegative = false;
    if (bytes[i] === 45 || bytes[i] === 43) {
      expNegative = bytes[i] === 45;
      i++;
    }
    let value = 0;
    let expDigits = 0;
    for (; i < end; i++) {
      const d = bytes[i]! - 48;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      expDigits++;
    }
    if (expDigits === 0) return Number.NaN;
    exponent += expNegative ? -value : value;
  }
  if (i !== end) return Number.NaN;
  let result: number;
  if (digits <= 15 && exponent >= -22 && exponent <= 22) {
    // Exact: both operands are exactly representable, so one rounding.
    result = exponent < 0 ? mantissa / POWERS[-exponent]! : mantissa * POWERS[exponent]!;
  } else {
    return slowParse(bytes, start, end);
  }
  return negative ? -result : result;
}

function slowParse(bytes: Uint8Array, start: number, end: number): number {
  const token = new TextDecoder().decode(bytes.subarray(start, end)).trim();
  if (token === '') return Number.NaN;
  const value = Number(token);
  if (!Number.isNaN(value)) return value;
  const lower = token.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  return Number.NaN;
}
