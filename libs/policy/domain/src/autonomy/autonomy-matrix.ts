import { Verdict } from '@mandate/contracts';
import {
  ProblemList,
  isPlainObject,
  readNonEmptyString,
  rejectUnknownKeys,
} from '../risk/bundle-config.error';
import { RISK_BANDS, type RiskBand } from '../risk/risk-model.config';
import { TRUST_BANDS, type TrustBand } from '../trust/trust-model';
import { VERDICT_NAMES, isMoreRestrictive, verdictName, verdictOfName } from './verdict-order';

/** Risk band × trust band → verdict, one version per bundle (matrix.json). */
export interface AutonomyMatrix {
  readonly version: string;
  readonly cells: Readonly<Record<RiskBand, Readonly<Record<TrustBand, Verdict>>>>;
}

/**
 * Parses and validates matrix.json: every risk band × trust band cell present with a known
 * verdict (DENY allowed), and the matrix monotone: more risk never grants more autonomy, more
 * trust never grants less. A non-monotone matrix is almost always a typo, and one that rewards
 * risk is a hole. Throws `BundleConfigError` listing all problems.
 */
export function parseAutonomyMatrix(json: unknown, file = 'matrix.json'): AutonomyMatrix {
  const p = new ProblemList();
  if (!isPlainObject(json)) {
    p.add('$', 'must be a JSON object');
    p.throwIfAny(file);
  }
  const root = json as Record<string, unknown>;
  rejectUnknownKeys(p, '$', root, ['version', 'description', 'cells']);
  const version = readNonEmptyString(p, '$.version', root['version']);
  const cells = {} as Record<RiskBand, Record<TrustBand, Verdict>>;
  const rawCells = root['cells'];
  if (!isPlainObject(rawCells)) {
    p.add('$.cells', 'must be an object keyed by risk band');
  } else {
    rejectUnknownKeys(p, '$.cells', rawCells, RISK_BANDS);
    for (const risk of RISK_BANDS) {
      const row = rawCells[risk];
      const path = `$.cells.${risk}`;
      if (!isPlainObject(row)) {
        p.add(path, 'is missing (must be an object keyed by trust band)');
        continue;
      }
      rejectUnknownKeys(p, path, row, TRUST_BANDS);
      const out = {} as Record<TrustBand, Verdict>;
      for (const trust of TRUST_BANDS) {
        const verdict = verdictOfName(row[trust]);
        if (verdict === undefined)
          p.add(
            `${path}.${trust}`,
            `must be one of ${VERDICT_NAMES.join(', ')}, got ${JSON.stringify(row[trust])}`,
          );
        else out[trust] = verdict;
      }
      cells[risk] = out;
    }
    if (p.problems.length === 0) checkMonotone(p, cells);
  }
  p.throwIfAny(file);
  return { version: version as string, cells };
}

function checkMonotone(p: ProblemList, cells: Record<RiskBand, Record<TrustBand, Verdict>>): void {
  RISK_BANDS.forEach((risk, r) =>
    TRUST_BANDS.forEach((trust, t) => {
      const here = cells[risk][trust];
      if (t > 0) {
        const lessTrusted = cells[risk][TRUST_BANDS[t - 1]];
        if (isMoreRestrictive(here, lessTrusted))
          p.add(
            `$.cells.${risk}.${trust}`,
            `${verdictName(here)} is stricter than ${verdictName(lessTrusted)} for less trust (${TRUST_BANDS[t - 1]}); more trust must never mean less autonomy`,
          );
      }
      if (r > 0) {
        const lessRisky = cells[RISK_BANDS[r - 1]][trust];
        if (isMoreRestrictive(lessRisky, here))
          p.add(
            `$.cells.${risk}.${trust}`,
            `${verdictName(here)} is more autonomous than ${verdictName(lessRisky)} for less risk (${RISK_BANDS[r - 1]}); more risk must never mean more autonomy`,
          );
      }
    }),
  );
}

/** The cell for a risk band and trust band; undefined for a band the matrix does not know. */
export function matrixVerdict(
  matrix: AutonomyMatrix,
  risk: RiskBand,
  trust: TrustBand,
): Verdict | undefined {
  const row = Object.prototype.hasOwnProperty.call(matrix.cells, risk)
    ? matrix.cells[risk]
    : undefined;
  return row && Object.prototype.hasOwnProperty.call(row, trust) ? row[trust] : undefined;
}
