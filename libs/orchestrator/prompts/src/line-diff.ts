/** A line-level edit script entry. */
export interface DiffLine {
  readonly kind: 'same' | 'removed' | 'added';
  readonly text: string;
}

export interface UnifiedDiffOptions {
  readonly fromLabel?: string;
  readonly toLabel?: string;
  /** Unchanged lines shown around each change; default 3. */
  readonly context?: number;
}

/**
 * Beyond this many DP cells (after trimming the common prefix and suffix) the diff falls back to
 * "remove all, add all" for the differing middle: still a correct diff, just not minimal, and
 * memory stays bounded (a Uint32Array of this size is 16 MiB).
 */
export const MAX_LCS_CELLS = 4_000_000;

/** Splits text into lines; `\r\n` counts as one line break. A trailing newline adds no line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Minimal line edit script from `a` to `b` (longest common subsequence). */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head = a.slice(0, start).map((text): DiffLine => ({ kind: 'same', text }));
  const tail = a.slice(endA).map((text): DiffLine => ({ kind: 'same', text }));
  return [...head, ...diffMiddle(a.slice(start, endA), b.slice(start, endB)), ...tail];
}

function diffMiddle(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || (n + 1) * (m + 1) > MAX_LCS_CELLS) {
    return [
      ...a.map((text): DiffLine => ({ kind: 'removed', text })),
      ...b.map((text): DiffLine => ({ kind: 'added', text })),
    ];
  }
  // lcs[i * (m + 1) + j] = length of the LCS of a[i..] and b[j..].
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? (lcs[(i + 1) * width + j + 1] as number) + 1
          : Math.max(lcs[(i + 1) * width + j] as number, lcs[i * width + j + 1] as number);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i] as string });
      i++;
      j++;
    } else if ((lcs[(i + 1) * width + j] as number) >= (lcs[i * width + j + 1] as number)) {
      out.push({ kind: 'removed', text: a[i] as string });
      i++;
    } else {
      out.push({ kind: 'added', text: b[j] as string });
      j++;
    }
  }
  for (; i < n; i++) out.push({ kind: 'removed', text: a[i] as string });
  for (; j < m; j++) out.push({ kind: 'added', text: b[j] as string });
  return out;
}

/**
 * Unified diff (`diff -u` layout: `---`/`+++` headers, `@@ -l,n +l,n @@` hunks, three lines of
 * context). Identical inputs give the two headers and no hunk.
 */
export function unifiedLineDiff(a: string, b: string, options: UnifiedDiffOptions = {}): string {
  const context = Math.max(0, Math.floor(options.context ?? 3));
  const script = diffLines(splitLines(a), splitLines(b));
  const out = [`--- ${options.fromLabel ?? 'a'}`, `+++ ${options.toLabel ?? 'b'}`];

  // Positions (in the script) of changed lines, grouped into hunks whose context touches.
  const changed: number[] = [];
  script.forEach((line, k) => {
    if (line.kind !== 'same') changed.push(k);
  });
  let k = 0;
  while (k < changed.length) {
    const first = changed[k] as number;
    let last = first;
    while (k + 1 < changed.length && (changed[k + 1] as number) - last <= 2 * context + 1) {
      k++;
      last = changed[k] as number;
    }
    k++;
    const from = Math.max(0, first - context);
    const to = Math.min(script.length - 1, last + context);

    // Line numbers (1-based) of the hunk's first line in a and in b.
    let lineA = 1;
    let lineB = 1;
    for (let p = 0; p < from; p++) {
      const kind = (script[p] as DiffLine).kind;
      if (kind !== 'added') lineA++;
      if (kind !== 'removed') lineB++;
    }
    const body: string[] = [];
    let countA = 0;
    let countB = 0;
    for (let p = from; p <= to; p++) {
      const line = script[p] as DiffLine;
      if (line.kind === 'same') {
        body.push(` ${line.text}`);
        countA++;
        countB++;
      } else if (line.kind === 'removed') {
        body.push(`-${line.text}`);
        countA++;
      } else {
        body.push(`+${line.text}`);
        countB++;
      }
    }
    // As in GNU diff: an empty range is reported at the line before it.
    const startA = countA === 0 ? lineA - 1 : lineA;
    const startB = countB === 0 ? lineB - 1 : lineB;
    out.push(`@@ -${range(startA, countA)} +${range(startB, countB)} @@`, ...body);
  }
  return `${out.join('\n')}\n`;
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${start},${count}`;
}
