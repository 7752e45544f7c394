import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Verdict } from '@mandate/contracts';
import { BundleConfigError } from '../risk/bundle-config.error';
import { RISK_BANDS } from '../risk/risk-model.config';
import { TRUST_BANDS } from '../trust/trust-model';
import { matrixVerdict, parseAutonomyMatrix } from './autonomy-matrix';
import {
  capAtCeiling,
  isMoreRestrictive,
  moreRestrictive,
  normalizeVerdict,
  verdictName,
  verdictOfName,
} from './verdict-order';

const V = Verdict;
const bundle = () =>
  JSON.parse(readFileSync(join(__dirname, '../../../bundles/default/matrix.json'), 'utf8')) as {
    version: string;
    cells: Record<string, Record<string, unknown>>;
  };

function problemsOf(json: unknown): string[] {
  try {
    parseAutonomyMatrix(json);
  } catch (e) {
    expect(e).toBeInstanceOf(BundleConfigError);
    return [...(e as BundleConfigError).problems];
  }
  throw new Error('expected parseAutonomyMatrix to refuse the matrix');
}

describe('verdict order', () => {
  const ordered = [
    V.VERDICT_AUTO,
    V.VERDICT_AUTO_WITH_NOTICE,
    V.VERDICT_APPROVE_1,
    V.VERDICT_APPROVE_2,
    V.VERDICT_DENY,
  ];

  it('orders AUTO < AUTO_WITH_NOTICE < APPROVE_1 < APPROVE_2 < DENY', () => {
    for (let i = 0; i < ordered.length; i++)
      for (let j = 0; j < ordered.length; j++) {
        expect(moreRestrictive(ordered[i], ordered[j])).toBe(ordered[Math.max(i, j)]);
        expect(isMoreRestrictive(ordered[i], ordered[j])).toBe(i > j);
      }
  });

  it('treats UNSPECIFIED and unknown values as DENY', () => {
    expect(normalizeVerdict(V.VERDICT_UNSPECIFIED)).toBe(V.VERDICT_DENY);
    expect(normalizeVerdict(42 as Verdict)).toBe(V.VERDICT_DENY);
    expect(moreRestrictive(V.VERDICT_AUTO, V.VERDICT_UNSPECIFIED)).toBe(V.VERDICT_DENY);
    expect(verdictName(V.VERDICT_UNSPECIFIED)).toBe('DENY');
  });

  it('caps at the ceiling, the most autonomous verdict allowed', () => {
    expect(capAtCeiling(V.VERDICT_AUTO, V.VERDICT_APPROVE_1)).toBe(V.VERDICT_APPROVE_1);
    expect(capAtCeiling(V.VERDICT_APPROVE_2, V.VERDICT_APPROVE_1)).toBe(V.VERDICT_APPROVE_2);
    expect(capAtCeiling(V.VERDICT_AUTO, V.VERDICT_AUTO)).toBe(V.VERDICT_AUTO);
    expect(capAtCeiling(V.VERDICT_AUTO, V.VERDICT_UNSPECIFIED)).toBe(V.VERDICT_DENY);
  });

  it('reads bundle names strictly', () => {
    expect(verdictOfName('APPROVE_2')).toBe(V.VERDICT_APPROVE_2);
    expect(verdictOfName('VERDICT_AUTO')).toBeUndefined();
    expect(verdictOfName('auto')).toBeUndefined();
    expect(verdictOfName('toString')).toBeUndefined();
  });
});

describe('parseAutonomyMatrix', () => {
  it('accepts the default bundle, which uses every verdict', () => {
    const m = parseAutonomyMatrix(bundle());
    expect(m.version).toBe('matrix-1');
    expect(m.cells.low.untrusted).toBe(V.VERDICT_APPROVE_1);
    expect(m.cells.low.high).toBe(V.VERDICT_AUTO);
    expect(m.cells.critical.untrusted).toBe(V.VERDICT_DENY);
    const used = new Set(RISK_BANDS.flatMap((r) => TRUST_BANDS.map((t) => m.cells[r][t])));
    expect(used).toEqual(
      new Set([
        V.VERDICT_AUTO,
        V.VERDICT_AUTO_WITH_NOTICE,
        V.VERDICT_APPROVE_1,
        V.VERDICT_APPROVE_2,
        V.VERDICT_DENY,
      ]),
    );
  });

  it('refuses a missing cell, a missing row and an unknown verdict', () => {
    const json = bundle();
    delete json.cells['medium']['high'];
    delete json.cells['critical'];
    json.cells['low']['low'] = 'VERDICT_AUTO';
    expect(problemsOf(json)).toEqual([
      expect.stringMatching(/^\$\.cells\.low\.low: must be one of AUTO, AUTO_WITH_NOTICE/),
      expect.stringMatching(/^\$\.cells\.medium\.high: must be one of/),
      expect.stringMatching(/^\$\.cells\.critical: is missing/),
    ]);
  });

  it('refuses unknown bands and keys, and a missing version', () => {
    const json = bundle() as Record<string, unknown> & ReturnType<typeof bundle>;
    json.cells['extreme'] = {};
    json.cells['low']['trusted'] = 'AUTO';
    delete (json as Partial<typeof json>).version;
    json['colour'] = 'red';
    expect(problemsOf(json)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.cells\.extreme: unknown key/),
        expect.stringMatching(/^\$\.cells\.low\.trusted: unknown key/),
        expect.stringMatching(/^\$\.version: must be a non-empty string/),
        expect.stringMatching(/^\$\.colour: unknown key/),
      ]),
    );
  });

  it('refuses a matrix where more trust means less autonomy', () => {
    const json = bundle();
    json.cells['medium']['high'] = 'APPROVE_2';
    // The same typo also breaks the risk direction (high risk, high trust is APPROVE_1).
    expect(problemsOf(json)).toEqual([
      expect.stringMatching(
        /^\$\.cells\.medium\.high: APPROVE_2 is stricter than AUTO_WITH_NOTICE for less trust/,
      ),
      expect.stringMatching(/^\$\.cells\.high\.high: APPROVE_1 is more autonomous than APPROVE_2/),
    ]);
  });

  it('refuses a matrix where more risk means more autonomy', () => {
    const json = bundle();
    json.cells['critical']['high'] = 'AUTO';
    expect(problemsOf(json)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\$\.cells\.critical\.high: AUTO is more autonomous than APPROVE_1 for less risk/,
        ),
      ]),
    );
  });

  it('refuses a non-object', () => {
    expect(() => parseAutonomyMatrix('AUTO')).toThrow(/matrix\.json is invalid/);
  });
});

describe('matrixVerdict', () => {
  it('returns undefined for bands the matrix does not know', () => {
    const m = parseAutonomyMatrix(bundle());
    expect(matrixVerdict(m, 'high', 'medium')).toBe(V.VERDICT_APPROVE_1);
    expect(matrixVerdict(m, 'severe' as never, 'high')).toBeUndefined();
    expect(matrixVerdict(m, 'low', '__proto__' as never)).toBeUndefined();
  });
});
