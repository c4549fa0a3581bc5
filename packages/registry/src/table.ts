/** Renders rows as a box-drawn table, columns sized to their widest cell. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (left: string, mid: string, right: string) =>
    left + widths.map((width) => '─'.repeat(width + 2)).join(mid) + right;
  const row = (cells: readonly string[]) =>
    `│${widths.map((width, column) => ` ${(cells[column] ?? '').padEnd(width)} `).join('│')}│`;
  return [
    line('┌', '┬', '┐'),
    row(headers),
    line('├', '┼', '┤'),
    ...rows.map(row),
    line('└', '┴', '┘'),
  ].join('\n');
}
