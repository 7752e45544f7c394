import { ReviewConfigError } from './errors';

/** One step of the escalation chain. */
export interface SlaTier {
  /**
   * Team that owns the task in this tier. Tier 0 uses the routed team when omitted; every later
   * tier must name one (e.g. "supervisors").
   */
  readonly team?: string;
  /** Time this tier has, from the moment the task enters it. */
  readonly slaMs: number;
  /** Warning this long before the tier's deadline; defaults to the policy's `warnBeforeMs`. */
  readonly warnBeforeMs?: number;
}

/**
 * What happens when the last tier passes its deadline. Never approval: an unattended task must
 * not execute. `reject` publishes a REJECT (reason SLA_EXPIRED, reviewer `system/sla`); `expire`
 * closes the task EXPIRED without a rejection (no trust penalty for the agent).
 */
export type ExpiryOutcome = 'reject' | 'expire';

export interface SlaPolicy {
  readonly tiers: readonly SlaTier[];
  readonly warnBeforeMs: number;
  readonly onExpiry: ExpiryOutcome;
}

export interface SlaConfig {
  readonly default: SlaPolicy;
  /** Overrides per action type (snake case), merged over the default. */
  readonly byActionType?: Readonly<Record<string, Partial<SlaPolicy>>>;
}

const HOUR = 60 * 60 * 1000;

export const DEFAULT_SLA: SlaConfig = {
  default: {
    tiers: [{ slaMs: 4 * HOUR }, { team: 'supervisors', slaMs: 2 * HOUR }],
    warnBeforeMs: 30 * 60 * 1000,
    onExpiry: 'reject',
  },
};

const EXPIRY: readonly string[] = ['reject', 'expire'];
const TEAM = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const MAX_TIERS = 10;

function validatePolicy(p: SlaPolicy, where: string): void {
  if (!EXPIRY.includes(p.onExpiry as string))
    throw new ReviewConfigError(
      `${where}.onExpiry is "${String(p.onExpiry)}": only "reject" or "expire" are allowed — ` +
        'an unattended review must never end in approval',
    );
  if (!Array.isArray(p.tiers) || p.tiers.length === 0 || p.tiers.length > MAX_TIERS)
    throw new ReviewConfigError(`${where}.tiers must hold 1..${MAX_TIERS} tiers`);
  if (!(Number.isFinite(p.warnBeforeMs) && p.warnBeforeMs >= 0))
    throw new ReviewConfigError(`${where}.warnBeforeMs must be >= 0`);
  p.tiers.forEach((t, i) => {
    const at = `${where}.tiers[${i}]`;
    if (!(Number.isFinite(t.slaMs) && t.slaMs > 0))
      throw new ReviewConfigError(`${at}.slaMs must be positive`);
    const warn = t.warnBeforeMs ?? p.warnBeforeMs;
    if (!(warn >= 0 && warn < t.slaMs))
      throw new ReviewConfigError(`${at}: the warning must come after the tier starts (< slaMs)`);
    if (i > 0 && t.team === undefined)
      throw new ReviewConfigError(`${at}.team is required: an escalation tier names its team`);
    if (t.team !== undefined && !TEAM.test(t.team))
      throw new ReviewConfigError(`${at}.team "${t.team}" is not a team name`);
  });
}

/** Validates a configuration (refusing any silent approval on expiry) and fills defaults. */
export function validateSla(input: Partial<SlaConfig> | undefined): SlaConfig {
  const config: SlaConfig = {
    default: { ...DEFAULT_SLA.default, ...input?.default },
    byActionType: input?.byActionType ?? {},
  };
  validatePolicy(config.default, 'sla.default');
  for (const [type, override] of Object.entries(config.byActionType ?? {}))
    validatePolicy({ ...config.default, ...override }, `sla.byActionType.${type}`);
  return config;
}

/**
 * The SLA of one task. A post-hoc review (the action already ran under AUTO_WITH_NOTICE) always
 * just expires: a synthetic rejection would cost the agent trust for the reviewers' absence.
 */
export function slaPolicyFor(config: SlaConfig, actionType: string, postHoc: boolean): SlaPolicy {
  const merged = { ...config.default, ...config.byActionType?.[actionType] };
  return postHoc ? { ...merged, onExpiry: 'expire' } : merged;
}

/** Deadline and warning of `tier` for a task entering it at `from`. */
export function tierTimers(
  policy: SlaPolicy,
  tier: number,
  from: Date,
): { dueAt: Date; warnAt: Date } {
  const t = policy.tiers[Math.min(tier, policy.tiers.length - 1)];
  const dueAt = new Date(from.getTime() + t.slaMs);
  return { dueAt, warnAt: new Date(dueAt.getTime() - (t.warnBeforeMs ?? policy.warnBeforeMs)) };
}

/** Team of a tier: its own, or the routed team for tier 0. */
export function tierTeam(policy: SlaPolicy, tier: number, routedTeam: string): string {
  return policy.tiers[tier]?.team ?? routedTeam;
}
