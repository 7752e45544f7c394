import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';

/**
 * Renders a Cedar error as one line: "message (help) at line:col" where the location is
 * resolved against `source` when given.
 */
export function formatCedarError(err: DetailedError, source?: string): string {
  let text = err.message;
  if (err.help) text += ` (${err.help})`;
  const loc = err.sourceLocations?.[0];
  if (loc && source !== undefined) {
    const { line, column } = lineColumn(source, loc.start);
    text += ` at ${line}:${column}`;
  }
  for (const related of err.related ?? []) text += `; ${related.message}`;
  return text;
}

function lineColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
