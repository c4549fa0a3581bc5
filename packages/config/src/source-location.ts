/** A 1-based line and column in a text. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** The 1-based line and column of the character at `offset`. */
export function positionAt(text: string, offset: number): SourcePosition {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1) ?? '').length + 1 };
}

/** The source line at `position` with a caret under the column, for error messages. */
export function codeFrame(text: string, position: SourcePosition): string {
  const source = (text.split('\n')[position.line - 1] ?? '').replace(/\r$/, '');
  const gutter = String(position.line);
  const pad = ' '.repeat(gutter.length);
  const caret = `${' '.repeat(Math.max(0, position.column - 1))}^`;
  return `  ${gutter} | ${source}\n  ${pad} | ${caret}`;
}

/** Thrown inside the scanner to stop at the first error. */
class Stop {
  constructor(readonly offset: number) {}
}

/**
 * The offset of the first JSON syntax error in `text`, or `undefined` when the scanner finds
 * none. `JSON.parse` messages do not always say where the error is (it depends on the Node
 * version), so the loader finds the place itself.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let at = 0;
  const fail = (): never => {
    throw new Stop(at);
  };
  const skipSpace = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at] ?? '')) at++;
  };
  const expect = (char: string): void => {
    if (text[at] !== char) fail();
    at++;
  };
  const scanString = (): void => {
    expect('"');
    for (;;) {
      const char = text[at];
      if (char === undefined || char < ' ') fail();
      if (char === '"') {
        at++;
        return;
      }
      if (char === '\\') {
        at++;
        const escaped = text[at] ?? '';
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5))) fail();
          at += 5;
        } else if (escaped !== '' && '"\\/bfnrt'.includes(escaped)) at++;
        else fail();
      } else at++;
    }
  };
  const scanValue = (): void => {
    skipSpace();
    const char = text[at];
    if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      at++;
      skipSpace();
      if (text[at] === close) {
        at++;
        return;
      }
      for (;;) {
        if (close === '}') {
          skipSpace();
          scanString();
          skipSpace();
          expect(':');
        }
        scanValue();
        skipSpace();
        if (text[at] !== ',') {
          expect(close);
          return;
        }
        at++;
      }
    }
    if (char === '"') {
      scanString();
      return;
    }
    const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
    literal.lastIndex = at;
    const match = literal.exec(text);
    if (match === null) fail();
    at = literal.lastIndex;
  };
  try {
    scanValue();
    skipSpace();
    if (at < text.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return error.offset;
    throw error;
  }
}
