import { ReviewConfigError } from './errors';
import { validateRouting, type RoutingConfig } from './routing';
import { validateSla, type SlaConfig } from './sla-config';

export interface BatchConfig {
  /** Risk bands whose APPROVE_1 tasks may be approved in a batch. Default ["low"]. */
  readonly riskBands: readonly string[];
  /** Most tasks one batch may hold. Default 50. */
  readonly maxItems: number;
}

export interface ReviewConfig {
  readonly routing: RoutingConfig;
  readonly sla: SlaConfig;
  /** How long a claim holds without being renewed (claiming again renews). Default 15 min. */
  readonly leaseMs: number;
  readonly batch: BatchConfig;
  /** Longest comment, in characters. Default 4000. */
  readonly maxCommentChars: number;
  /**
   * Team whose reviewers work agents' hand-offs (`HandOffQueue`); supervisors work them all.
   * Default: `routing.defaultTeam` ("general").
   */
  readonly handoffTeam: string;
}

export interface ReviewConfigInput {
  readonly routing?: Partial<RoutingConfig>;
  readonly sla?: Partial<SlaConfig>;
  readonly leaseMs?: number;
  readonly batch?: Partial<BatchConfig>;
  readonly maxCommentChars?: number;
  readonly handoffTeam?: string;
}

const TEAM = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

/** Validates and completes a configuration; throws `ReviewConfigError` on anything unsafe. */
export function reviewConfig(input: ReviewConfigInput = {}): ReviewConfig {
  const routing = validateRouting(input.routing);
  const config: ReviewConfig = {
    routing,
    sla: validateSla(input.sla),
    leaseMs: input.leaseMs ?? 15 * 60 * 1000,
    batch: { riskBands: ['low'], maxItems: 50, ...input.batch },
    maxCommentChars: input.maxCommentChars ?? 4000,
    handoffTeam: input.handoffTeam ?? routing.defaultTeam,
  };
  if (!TEAM.test(config.handoffTeam))
    throw new ReviewConfigError(`handoffTeam "${config.handoffTeam}" is not a team name`);
  if (!(Number.isFinite(config.leaseMs) && config.leaseMs > 0))
    throw new ReviewConfigError('leaseMs must be positive');
  if (!(Number.isInteger(config.batch.maxItems) && config.batch.maxItems > 0))
    throw new ReviewConfigError('batch.maxItems must be a positive integer');
  if (!(Number.isInteger(config.maxCommentChars) && config.maxCommentChars > 0))
    throw new ReviewConfigError('maxCommentChars must be a positive integer');
  return config;
}
