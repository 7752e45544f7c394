import { Verdict } from '@mandate/contracts';
import type { RiskBand } from '../risk/risk-model.config';
import type { TrustBand } from '../trust/trust-model';
import { matrixVerdict, type AutonomyMatrix } from './autonomy-matrix';
import type { OpenBreaker } from './circuit-breakers';
import type { KillSwitch } from './kill-switch.board';
import {
  capAtCeiling,
  isMoreRestrictive,
  moreRestrictive,
  normalizeVerdict,
} from './verdict-order';

/** The Cedar obligation that demands a human look before execution. */
export const HUMAN_REVIEW_OBLIGATION = 'human_review';

export interface AutonomyInput {
  /** Cedar's decision; anything but 'allow' denies. */
  readonly cedar: 'allow' | 'deny';
  /** Obligations attached by matching Cedar policies (e.g. "human_review"). */
  readonly obligations: readonly string[];
  readonly risk: { readonly band: RiskBand };
  readonly trust: { readonly band: TrustBand };
  readonly matrix: AutonomyMatrix;
  /** The agent's configured ceiling: the most autonomous verdict it may ever get. */
  readonly ceiling: Verdict;
  /** The strongest kill switch for this tenant × agent × action type, if any. */
  readonly killSwitch?: KillSwitch;
  /** Open circuit breakers of this tenant × agent. */
  readonly breakers: readonly OpenBreaker[];
}

export interface AutonomyDecision {
  readonly verdict: Verdict;
  /** One code per step that made the verdict what it is, in the order applied. */
  readonly reasonCodes: string[];
  readonly matrixVersion: string;
}

function killSwitchCode(s: KillSwitch): string {
  return `KILL_SWITCH_${String(s.scope).toUpperCase()}`;
}

/**
 * Bounded autonomy, in this order: a Cedar forbid → DENY; a `deny` kill switch → DENY; otherwise
 * the matrix cell for risk band × trust band, then only ever made stricter by a `human_review`
 * obligation (at most APPROVE_1), open breakers (each at most its demotion), a
 * `require_approval` kill switch (at most APPROVE_1) and the agent's ceiling. Every step that
 * changes the verdict adds its reason code. Each later step can only restrict, so their order
 * decides which codes appear, never the verdict.
 */
export function decideAutonomy(input: AutonomyInput): AutonomyDecision {
  const matrixVersion = input.matrix?.version ?? '';
  if (input.cedar !== 'allow')
    return {
      verdict: Verdict.VERDICT_DENY,
      reasonCodes: [input.cedar === 'deny' ? 'FORBID_MATCHED' : 'CEDAR_UNDECIDED'],
      matrixVersion,
    };
  const ks = input.killSwitch;
  if (ks && ks.mode !== 'require_approval')
    // 'deny', or a mode this code does not know: fail closed.
    return { verdict: Verdict.VERDICT_DENY, reasonCodes: [killSwitchCode(ks)], matrixVersion };

  const cell = input.matrix
    ? matrixVerdict(input.matrix, input.risk?.band, input.trust?.band)
    : undefined;
  if (cell === undefined)
    return { verdict: Verdict.VERDICT_DENY, reasonCodes: ['MATRIX_CELL_MISSING'], matrixVersion };
  let verdict = normalizeVerdict(cell);
  const reasonCodes = ['MATRIX'];
  const restrict = (limit: Verdict, code: string) => {
    const next = moreRestrictive(verdict, limit);
    if (isMoreRestrictive(next, verdict)) {
      verdict = next;
      reasonCodes.push(code);
    }
  };

  if ((input.obligations ?? []).includes(HUMAN_REVIEW_OBLIGATION))
    restrict(Verdict.VERDICT_APPROVE_1, 'OBLIGATION_HUMAN_REVIEW');
  for (const b of input.breakers ?? [])
    restrict(b.demoteTo, `BREAKER_${String(b.kind).toUpperCase()}`);
  if (ks) restrict(Verdict.VERDICT_APPROVE_1, killSwitchCode(ks));
  const capped = capAtCeiling(verdict, input.ceiling);
  if (isMoreRestrictive(capped, verdict)) {
    verdict = capped;
    reasonCodes.push('CEILING_APPLIED');
  }
  return { verdict, reasonCodes, matrixVersion };
}
