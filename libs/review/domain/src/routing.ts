import { actionTypeOf, type PolicyDecision } from '@mandate/contracts';
import { ReviewConfigError } from './errors';

/**
 * Queue routing: which team (and skill) reviews a task. The first rule that matches the task's
 * action type and risk band wins; no match goes to the default team with no skill.
 */
export interface RoutingRule {
  /** Action type(s) (snake case, e.g. "apply_discount"); omitted = any. */
  readonly actionType?: string | readonly string[];
  /** Risk band(s) ("low", "medium", "high", "critical"); omitted = any. */
  readonly riskBand?: string | readonly string[];
  readonly team: string;
  readonly skill?: string;
}

export interface RoutingConfig {
  readonly rules: readonly RoutingRule[];
  /** Team of tasks no rule matches. */
  readonly defaultTeam: string;
}

export const DEFAULT_ROUTING: RoutingConfig = { rules: [], defaultTeam: 'general' };

/** The queue keys of a task (tenant comes from the store scope). */
export interface QueueKeys {
  readonly team: string;
  /** "" when no skill is required. */
  readonly skill: string;
  /** "" when the action is malformed (policy would have denied it; kept routable anyway). */
  readonly actionType: string;
  /** From the decision explanation; "unknown" when policy gave none. */
  readonly riskBand: string;
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function validateRouting(input: Partial<RoutingConfig> | undefined): RoutingConfig {
  const config: RoutingConfig = {
    rules: input?.rules ?? DEFAULT_ROUTING.rules,
    defaultTeam: input?.defaultTeam ?? DEFAULT_ROUTING.defaultTeam,
  };
  if (!NAME.test(config.defaultTeam))
    throw new ReviewConfigError(`routing.defaultTeam "${config.defaultTeam}" is not a team name`);
  config.rules.forEach((rule, i) => {
    if (!NAME.test(rule.team))
      throw new ReviewConfigError(`routing.rules[${i}].team "${rule.team}" is not a team name`);
    if (rule.skill !== undefined && !NAME.test(rule.skill))
      throw new ReviewConfigError(`routing.rules[${i}].skill "${rule.skill}" is not a skill name`);
  });
  return config;
}

const matches = (want: string | readonly string[] | undefined, value: string) =>
  want === undefined || (typeof want === 'string' ? want === value : want.includes(value));

export function riskBandOf(decision: PolicyDecision | undefined): string {
  return decision?.explanation?.riskBand || 'unknown';
}

export function routeTask(decision: PolicyDecision | undefined, config: RoutingConfig): QueueKeys {
  const actionType = actionTypeOf(decision?.proposal?.action) ?? '';
  const riskBand = riskBandOf(decision);
  const rule = config.rules.find(
    (r) => matches(r.actionType, actionType) && matches(r.riskBand, riskBand),
  );
  return {
    team: rule?.team ?? config.defaultTeam,
    skill: rule?.skill ?? '',
    actionType,
    riskBand,
  };
}
