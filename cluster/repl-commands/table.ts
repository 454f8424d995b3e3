// Plain-text tables for the operators' console: one header row, columns padded to their
// widest cell. The same text over a terminal, a Unix socket or a test's pipe (no colours,
// no box-drawing), so a test can read a row back by splitting on runs of spaces.
export type Cell = string | number | boolean | null | undefined;

const show = (cell: Cell) => (cell === undefined || cell === null || cell === '' ? '-' : cell === true ? 'yes' : cell === false ? 'no' : String(cell));

export function table(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(show))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ').trimEnd();
  return [line(cells[0]), line(widths.map((width) => '-'.repeat(width))), ...cells.slice(1).map(line)].join('\n');
}

/** `label  value` lines, labels padded alike. */
export function fields(pairs: [string, Cell][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${show(value)}`).join('\n');
}
