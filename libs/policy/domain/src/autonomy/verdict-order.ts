import { Verdict } from '@mandate/contracts';

/** Verdict names as written in bundle files, most autonomous first. */
export const VERDICT_NAMES = [
  'AUTO',
  'AUTO_WITH_NOTICE',
  'APPROVE_1',
  'APPROVE_2',
  'DENY',
] as const;
export type VerdictName = (typeof VERDICT_NAMES)[number];

const BY_NAME: Readonly<Record<VerdictName, Verdict>> = {
  AUTO: Verdict.VERDICT_AUTO,
  AUTO_WITH_NOTICE: Verdict.VERDICT_AUTO_WITH_NOTICE,
  APPROVE_1: Verdict.VERDICT_APPROVE_1,
  APPROVE_2: Verdict.VERDICT_APPROVE_2,
  DENY: Verdict.VERDICT_DENY,
};

/** The verdict a bundle name stands for; undefined for anything else. */
export function verdictOfName(name: unknown): Verdict | undefined {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(BY_NAME, name)
    ? BY_NAME[name as VerdictName]
    : undefined;
}

/** "APPROVE_1" for Verdict.VERDICT_APPROVE_1; anything unknown reads as "DENY". */
export function verdictName(verdict: Verdict): VerdictName {
  const v = normalizeVerdict(verdict);
  return VERDICT_NAMES.find((n) => BY_NAME[n] === v) as VerdictName;
}

/**
 * Any value that is not a known verdict (UNSPECIFIED, an unknown number) is DENY: the proto says
 * an unset verdict must be treated as DENY, and policy fails closed.
 */
export function normalizeVerdict(verdict: Verdict): Verdict {
  return verdict >= Verdict.VERDICT_AUTO &&
    verdict <= Verdict.VERDICT_DENY &&
    Number.isInteger(verdict)
    ? verdict
    : Verdict.VERDICT_DENY;
}

/**
 * The stricter of two verdicts. Order, most autonomous to most restrictive:
 * AUTO < AUTO_WITH_NOTICE < APPROVE_1 < APPROVE_2 < DENY (the enum's numeric order).
 */
export function moreRestrictive(a: Verdict, b: Verdict): Verdict {
  return Math.max(normalizeVerdict(a), normalizeVerdict(b)) as Verdict;
}

/** True when `a` grants strictly less autonomy than `b`. */
export function isMoreRestrictive(a: Verdict, b: Verdict): boolean {
  return normalizeVerdict(a) > normalizeVerdict(b);
}

/**
 * Caps a verdict at an agent's ceiling: the ceiling is the most autonomous verdict allowed, so
 * the result is the stricter of the two. An unknown ceiling is DENY.
 */
export function capAtCeiling(verdict: Verdict, ceiling: Verdict): Verdict {
  return moreRestrictive(verdict, ceiling);
}
