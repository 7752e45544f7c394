import type { AgentDataPolicy } from '@mandate/data-governance';
import { AGENT_TOOLS, type AgentToolName, type AgentToolSpec } from './tools';

/**
 * The four agents: what each is for, which prompt it uses, which tools it may call, which fields
 * it may read and how far it may act without a human. The ceilings are the ones of
 * `libs/policy/bundles/default/agents.json` (policy enforces them; they are repeated here so the
 * console and the plan builder can say what to expect).
 */

export type AgentId = 'lead-qualification' | 'deal-desk' | 'service-triage' | 'outreach';

/** The most autonomy policy may grant the agent (same names as the policy bundle). */
export type AutonomyCeiling =
  'VERDICT_AUTO' | 'VERDICT_AUTO_WITH_NOTICE' | 'VERDICT_APPROVE_1' | 'VERDICT_APPROVE_2';

export interface AgentDefinition {
  readonly id: AgentId;
  /** The purpose fields are selected for (as in the policy bundle). */
  readonly purpose: string;
  /** One line for people: what the agent does. */
  readonly description: string;
  /** Id of the prompt in `prompts/` (`prompts/<promptId>/prompt.md`). */
  readonly promptId: string;
  /** The tools the agent may call, in the order they are offered. */
  readonly tools: readonly AgentToolName[];
  /**
   * Readable CRM fields per object type (purpose limitation), for `selectFields`. No wildcards.
   */
  readonly readable: Readonly<Record<string, readonly string[]>>;
  /**
   * Fields the caller derives in code from withheld ones (never the raw value), per object type,
   * e.g. the lead's email domain instead of its address.
   */
  readonly derived: Readonly<Record<string, readonly string[]>>;
  readonly autonomyCeiling: AutonomyCeiling;
  /** CRM object types whose changes start this agent. */
  readonly triggers: readonly string[];
}

const ACTIVITY_FIELDS = ['kind', 'subject', 'body', 'occurredAt', 'relatedType', 'relatedId'];

export const AGENT_DEFINITIONS: Readonly<Record<AgentId, AgentDefinition>> = {
  'lead-qualification': {
    id: 'lead-qualification',
    purpose: 'lead-qualification',
    description:
      'Qualifies or disqualifies a new or re-opened lead and routes it to an owner by territory.',
    promptId: 'lead-qualification',
    tools: ['qualify_lead', 'disqualify_lead', 'assign_owner', 'send_email', 'hand_off'],
    // No name, no email address, no company name: scoring needs firmographics and intent only.
    readable: {
      lead: ['title', 'employees', 'industry', 'source', 'country', 'notes', 'status'],
      activity: ACTIVITY_FIELDS,
    },
    derived: { lead: ['emailDomain'] },
    autonomyCeiling: 'VERDICT_AUTO',
    triggers: ['lead'],
  },
  'deal-desk': {
    id: 'deal-desk',
    purpose: 'pricing',
    description:
      'Reviews an opportunity and proposes a justified discount within the ceiling, or hands off.',
    promptId: 'deal-desk',
    tools: ['apply_discount', 'move_opportunity_stage', 'hand_off'],
    readable: {
      opportunity: [
        'stage',
        'amountMinor',
        'currencyCode',
        'discountPercent',
        'closeDate',
        'customerTier',
        'industry',
        'notes',
      ],
      account: ['industry', 'customerTier', 'employees', 'status'],
      activity: ACTIVITY_FIELDS,
    },
    derived: {},
    autonomyCeiling: 'VERDICT_APPROVE_1',
    triggers: ['opportunity'],
  },
  'service-triage': {
    id: 'service-triage',
    purpose: 'service',
    description:
      'Sets a case priority, replies, closes confirmed resolutions and escalates incidents.',
    promptId: 'service-triage',
    tools: ['update_field', 'reply_to_case', 'close_case', 'escalate', 'hand_off'],
    readable: {
      case: [
        'subject',
        'description',
        'status',
        'priority',
        'origin',
        'customerTier',
        'industry',
        'openedAt',
      ],
      activity: ACTIVITY_FIELDS,
    },
    derived: {},
    autonomyCeiling: 'VERDICT_AUTO_WITH_NOTICE',
    triggers: ['case', 'activity'],
  },
  outreach: {
    id: 'outreach',
    purpose: 'outreach',
    description: 'Drafts a follow-up email to a contact, only when consent allows it now.',
    promptId: 'outreach',
    tools: ['send_email', 'no_action', 'hand_off'],
    // The name is read to greet the contact and reaches the model as a token (⟦PERSON_1⟧).
    // Consent fields are not given to the model: code checks them (`outreachAllowed`).
    readable: {
      contact: ['name', 'title', 'status', 'accountId'],
      activity: ACTIVITY_FIELDS,
    },
    derived: {},
    autonomyCeiling: 'VERDICT_APPROVE_1',
    triggers: ['contact'],
  },
};

export const AGENT_IDS = Object.keys(AGENT_DEFINITIONS) as AgentId[];

/** The agent's field policy, in the form `selectFields` takes. */
export function dataPolicyOf(agent: AgentDefinition): AgentDataPolicy {
  return { agentId: agent.id, purpose: agent.purpose, readable: agent.readable };
}

/** The tool specs the agent may call, for a `ModelRequest`. */
export function toolsOf(agent: AgentDefinition): AgentToolSpec[] {
  return agent.tools.map((name) => AGENT_TOOLS[name]);
}

/** The agents a change of this object type starts. */
export function agentsTriggeredBy(objectType: string): AgentDefinition[] {
  return AGENT_IDS.map((agentId) => AGENT_DEFINITIONS[agentId]).filter((agent) =>
    agent.triggers.includes(objectType),
  );
}
