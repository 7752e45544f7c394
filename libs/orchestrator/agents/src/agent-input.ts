import type { ModelRequestLike as ModelRequest } from './model-port';
import {
  UNTRUSTED_DATA_INSTRUCTION,
  newNonce,
  untrustedBlock,
  type FieldValue,
  type OutreachCheck,
} from '@mandate/data-governance';
import { toolsOf, type AgentDefinition } from './agent-definitions';

/**
 * What an agent is given for one step, and how it travels in a `ModelRequest`. Trusted context
 * (decided by Mandate's code: tenant rules, consent check, entity resolution) goes in the system
 * message; the record and the activity (CRM data, emails, notes) go in untrusted DATA blocks.
 * Everything here is already field-selected and pseudonymised by the caller.
 */

/** One email, call, meeting or note, newest first in `AgentInput.activity`. */
export interface ActivityItem {
  readonly kind: string;
  readonly subject?: string;
  readonly body?: string;
  readonly occurredAt?: string;
}

export interface TenantRules {
  /** Highest discount the agent may propose on its own (deal desk); default 20. */
  readonly maxDiscountPercent?: number;
  /** Owners the lead agent may route to, with their territory ("EMEA", "NA", "APAC"). */
  readonly owners?: ReadonlyArray<{ readonly ownerId: string; readonly territory: string }>;
  /** Case priorities, lowest first; default low, medium, high, urgent. */
  readonly priorities?: readonly string[];
  /** Minimum days between two outbound emails to one contact; default 7. */
  readonly minDaysBetweenEmails?: number;
}

/** An entity resolution made in code (`resolveMention` / `resolveCaseReference`). */
export type ResolutionContext =
  | { readonly kind: 'resolved'; readonly id: string }
  | {
      readonly kind: 'ambiguous';
      readonly candidates: ReadonlyArray<{ readonly id: string; readonly why: string }>;
    }
  | { readonly kind: 'none' };

/**
 * Why the agent is asked again within the same plan: an earlier step of it was denied by policy
 * or rejected by a reviewer. Written by Mandate's code from the decision, never by the model.
 */
export interface StepFeedback {
  /** Plan step that did not go through. */
  readonly stepIndex: number;
  /** The tool the step called (`apply_discount`, …). */
  readonly tool: string;
  /** The arguments it called it with (pseudonymised, as proposed). */
  readonly args: Readonly<Record<string, unknown>>;
  readonly outcome: 'denied' | 'rejected';
  /** Machine-readable reasons (`DISCOUNT_OVER_CEILING`, a reviewer's reason code). */
  readonly reasons: readonly string[];
  /** Earlier attempts of this plan that were also turned down, oldest first. */
  readonly earlier?: ReadonlyArray<{
    readonly tool: string;
    readonly args: Readonly<Record<string, unknown>>;
  }>;
}

export interface AgentContext {
  readonly tenantRules?: TenantRules;
  /** Set when the plan adapts after a denial or rejection. */
  readonly feedback?: StepFeedback;
  /** Outreach only: `outreachAllowed` on the contact record, computed in code. */
  readonly outreach?: OutreachCheck;
  /** Which record an inbound text or mention means, when that had to be resolved. */
  readonly resolution?: ResolutionContext;
  /** The contact an email would go to (outreach: the target contact). */
  readonly recipientContactId?: string;
}

export interface AgentInput {
  readonly tenantId: string;
  readonly target: { readonly objectType: string; readonly recordId: string };
  /** ISO 8601. */
  readonly now: string;
  /** The target's selected, pseudonymised fields. */
  readonly record: Readonly<Record<string, FieldValue>>;
  /** Related activity, newest first, scrubbed. */
  readonly activity: readonly ActivityItem[];
  readonly context: AgentContext;
}

const CONTEXT_PREFIX = 'Mandate context (trusted, JSON): ';
const TARGET_PREFIX = 'Target: ';
const TIME_PREFIX = 'Current time: ';
const MAX_BLOCK_LENGTH = 200_000;

/**
 * The pieces of one step's request, each exactly as the model sees it: the trusted context line
 * (system), and the time and target lines and the nonce-delimited DATA blocks (user).
 */
export interface AgentRequestParts {
  readonly contextLine: string;
  readonly timeLine: string;
  readonly targetLine: string;
  readonly recordBlock: string;
  readonly activityBlock: string;
}

export function agentRequestParts(
  input: AgentInput,
  nonce?: (label: string) => string,
): AgentRequestParts {
  // Whole JSON values only: a truncated block would not parse (the caller bounds the activity).
  const block = (label: string, value: unknown) =>
    untrustedBlock(label, JSON.stringify(value), nonce ? nonce(label) : newNonce(), {
      maxLength: MAX_BLOCK_LENGTH,
    });
  return {
    contextLine: `${CONTEXT_PREFIX}${JSON.stringify(input.context)}`,
    timeLine: `${TIME_PREFIX}${input.now}`,
    targetLine: `${TARGET_PREFIX}${input.target.objectType} ${input.target.recordId}`,
    recordBlock: block('record', input.record),
    activityBlock: block('activity', input.activity),
  };
}

/**
 * The model request for one step of `agent` on `input`. With the agent's rendered prompt, its
 * system half replaces the `Prompt:` line and its user half is the user message (see
 * `withPrompt`); without, a bare request the offline rules and tests read.
 */
export function buildAgentRequest(
  agent: AgentDefinition,
  input: AgentInput,
  nonce?: (label: string) => string,
  parts: AgentRequestParts = agentRequestParts(input, nonce),
): ModelRequest {
  return {
    tenantId: input.tenantId,
    agentId: agent.id,
    requireToolCall: true,
    tools: toolsOf(agent),
    messages: [
      {
        role: 'system',
        content: [`Prompt: ${agent.promptId}`, UNTRUSTED_DATA_INSTRUCTION, parts.contextLine].join(
          '\n',
        ),
      },
      {
        role: 'user',
        content: [parts.timeLine, parts.targetLine, parts.recordBlock, parts.activityBlock].join(
          '\n',
        ),
      },
    ],
  };
}

/** Which pieces a prompt template's user half places itself (the rest `withPrompt` appends). */
const PLACED = [
  ['timeLine', /^Current time: \{\{\s*now\s*\}\}$/m],
  ['targetLine', /^Target: \{\{\s*target\s*\}\}$/m],
  ['recordBlock', /^\{\{\s*record\s*\}\}$/m],
  ['activityBlock', /^\{\{\s*activity\s*\}\}$/m],
] as const;

/**
 * Puts the agent's rendered prompt into its request: the system half in place of the `Prompt:`
 * line (before the untrusted-data rule and the trusted context), the user half as the user
 * message. What to add is decided from the template, never from the rendered text (CRM data
 * could imitate a line): a piece the template's user half does not place on a line of its own
 * (an older or badly edited version) is appended, so the model always sees the data it decides
 * on. A DATA block a template puts in its system half is taken out of it: untrusted text is only
 * ever in the user message.
 */
export function withPrompt(
  request: ModelRequest,
  agent: AgentDefinition,
  parts: AgentRequestParts,
  rendered: {
    readonly system: string;
    readonly user: string;
    readonly template: { readonly user: string };
  },
): ModelRequest {
  const missing = PLACED.filter(([, placed]) => !placed.test(rendered.template.user)).map(
    ([key]) => parts[key],
  );
  const user = [rendered.user.trimEnd(), ...missing].filter((x) => x !== '').join('\n');
  let system = rendered.system;
  for (const block of [parts.recordBlock, parts.activityBlock])
    system = system.split(block).join('(the data is in the user message)');
  return {
    ...request,
    messages: request.messages.map((m) =>
      m.role === 'system'
        ? // A replacer function: a `$` in the rendered text (it quotes CRM data) is no pattern.
          { ...m, content: m.content.replace(`Prompt: ${agent.promptId}`, () => system) }
        : m.role === 'user'
          ? { ...m, content: user }
          : m,
    ),
  };
}

/** Thrown when a request was not built by `buildAgentRequest` (a bug in the caller). */
export class AgentInputError extends Error {
  override readonly name = 'AgentInputError';
}

/**
 * Reads back what `buildAgentRequest` put in a request (for the offline responders). DATA blocks
 * are parsed as JSON values only: their content is never interpreted as instructions.
 */
export function readAgentInput(req: ModelRequest): AgentInput {
  const system = req.messages.find((m) => m.role === 'system')?.content ?? '';
  const user = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const contextLine = system.split('\n').find((line) => line.startsWith(CONTEXT_PREFIX));
  const timeLine = user.split('\n').find((line) => line.startsWith(TIME_PREFIX));
  const targetLine = user.split('\n').find((line) => line.startsWith(TARGET_PREFIX));
  if (!contextLine || !timeLine || !targetLine)
    throw new AgentInputError('request lacks the Mandate context, time or target line');
  const [objectType, recordId] = targetLine.slice(TARGET_PREFIX.length).split(' ');
  const record = parseJson(dataBlock(user, 'record'), 'record');
  const activity = parseJson(dataBlock(user, 'activity'), 'activity');
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    throw new AgentInputError('record block is not a JSON object');
  if (!Array.isArray(activity)) throw new AgentInputError('activity block is not a JSON array');
  return {
    tenantId: req.tenantId,
    target: { objectType, recordId },
    now: timeLine.slice(TIME_PREFIX.length),
    record: record as Record<string, FieldValue>,
    activity: activity as ActivityItem[],
    context: parseJson(contextLine.slice(CONTEXT_PREFIX.length), 'context') as AgentContext,
  };
}

function dataBlock(text: string, label: string): string {
  const match = new RegExp(
    `<<<DATA ${label} ([A-Za-z0-9]+)>>>\\n([\\s\\S]*?)\\n<<<END \\1>>>`,
  ).exec(text);
  if (!match) throw new AgentInputError(`request lacks the ${label} data block`);
  return match[2];
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AgentInputError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}
