import { diffLines, splitLines, unifiedLineDiff } from './line-diff';

/** Applies a unified diff produced by `unifiedLineDiff` to `a` (test oracle). */
function applyUnified(a: string, diff: string): string {
  const source = splitLines(a);
  const out: string[] = [];
  const lines = diff.split('\n').slice(2, -1);
  let next = 0; // next unconsumed index in source
  for (let i = 0; i < lines.length; i++) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(lines[i] as string);
    if (!header) throw new Error(`expected a hunk header, got ${lines[i]}`);
    const count = header[2] === undefined ? 1 : Number(header[2]);
    const start = count === 0 ? Number(header[1]) : Number(header[1]) - 1;
    while (next < start) out.push(source[next++] as string);
    for (i++; i < lines.length && !(lines[i] as string).startsWith('@@'); i++) {
      const line = lines[i] as string;
      if (line.startsWith(' ')) {
        expect(source[next]).toBe(line.slice(1));
        out.push(source[next++] as string);
      } else if (line.startsWith('-')) {
        expect(source[next]).toBe(line.slice(1));
        next++;
      } else {
        out.push(line.slice(1));
      }
    }
    i--;
  }
  while (next < source.length) out.push(source[next++] as string);
  return out.join('\n');
}

describe('unifiedLineDiff', () => {
  it('prints only the headers for identical texts', () => {
    expect(unifiedLineDiff('a\nb\n', 'a\nb\n', { fromLabel: 'x@1', toLabel: 'x@2' })).toBe(
      '--- x@1\n+++ x@2\n',
    );
  });

  it('prints a hunk with three lines of context', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n');
    const b = ['1', '2', '3', '4', 'five', '6', '7', '8', '9'].join('\n');
    expect(unifiedLineDiff(a, b)).toBe(
      [
        '--- a',
        '+++ b',
        '@@ -2,7 +2,7 @@',
        ' 2',
        ' 3',
        ' 4',
        '-5',
        '+five',
        ' 6',
        ' 7',
        ' 8',
        '',
      ].join('\n'),
    );
  });

  it('splits distant changes into separate hunks and reports pure insertions GNU-style', () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n');
    const b = ['new first', ...a.split('\n').slice(0, 19), 'line 20 changed'].join('\n');
    const diff = unifiedLineDiff(a, b);
    expect(diff.match(/^@@/gm)).toHaveLength(2);
    expect(diff).toContain('@@ -1,3 +1,4 @@\n+new first\n line 1\n');
    expect(diff).toContain('@@ -17,4 +18,4 @@\n line 17\n');
    expect(applyUnified(a, diff)).toBe(b);
    const bare = unifiedLineDiff(a, b, { context: 0 });
    expect(bare).toContain(
      '@@ -0,0 +1 @@\n+new first\n@@ -20 +21 @@\n-line 20\n+line 20 changed\n',
    );
    expect(applyUnified(a, bare)).toBe(b);
  });

  it('finds a minimal edit script (LCS)', () => {
    const script = diffLines(['a', 'b', 'c', 'd'], ['a', 'c', 'd', 'e']);
    expect(script.filter((l) => l.kind !== 'same')).toEqual([
      { kind: 'removed', text: 'b' },
      { kind: 'added', text: 'e' },
    ]);
  });

  it('round-trips random edits', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: rand(15) }, () => `l${rand(6)}`);
      const b = a.flatMap((line) => {
        const r = rand(5);
        return r === 0 ? [] : r === 1 ? [line, `n${rand(6)}`] : r === 2 ? [`c${rand(6)}`] : [line];
      });
      const diff = unifiedLineDiff(a.join('\n'), b.join('\n'), { context: rand(4) });
      expect(applyUnified(a.join('\n'), diff)).toBe(b.join('\n'));
    }
  });

  it('stays correct (if not minimal) beyond the LCS size limit', () => {
    const a = Array.from({ length: 2100 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 2100 }, (_, i) => (i % 2 ? `a${i}` : `b${i}`)).join('\n');
    expect(applyUnified(a, unifiedLineDiff(a, b))).toBe(b);
  });
});
