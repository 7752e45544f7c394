import { defineAgentTool as defineTool } from './model-port';
import { z } from 'zod';

/**
 * The tools agents may call, as a model emits them: snake_case arguments mirroring the messages
 * of `proto/mandate/v1/action.proto` (plus the three non-actions `hand_off`, `escalate`,
 * `no_action`). Every schema is strict: unknown keys are a malformed call, not ignored.
 */

const reason = z.string().trim().min(1, 'must not be empty').max(2000);
const id = z.string().trim().min(1, 'must not be empty').max(200);
const code = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{1,39}$/, 'must be an upper-case code such as LOW_FIT');

export const qualifyLeadTool = defineTool({
  name: 'qualify_lead',
  description: 'Mark the lead as qualified, with a score from 0 to 100 and the signals behind it.',
  schema: z.object({ score: z.number().int().min(0).max(100), reason }).strict(),
});

export const disqualifyLeadTool = defineTool({
  name: 'disqualify_lead',
  description: 'Mark the lead as disqualified, with an upper-case reason code and an explanation.',
  schema: z.object({ reason_code: code, reason }).strict(),
});

export const assignOwnerTool = defineTool({
  name: 'assign_owner',
  description: 'Route the record to an owner id taken from the tenant rules or the record.',
  schema: z.object({ owner_id: id, reason }).strict(),
});

export const sendEmailTool = defineTool({
  name: 'send_email',
  description:
    'Draft an email to a contact record (an id, never an address); reviewed before it is sent.',
  schema: z
    .object({
      to_contact_id: id,
      subject: z.string().trim().min(1).max(200),
      body: z.string().trim().min(1).max(10000),
      template_id: z.string().max(200).optional(),
    })
    .strict(),
});

export const applyDiscountTool = defineTool({
  name: 'apply_discount',
  description: 'Apply a justified percentage discount (0 < x < 100) to the opportunity.',
  schema: z
    .object({
      discount_percent: z.number().gt(0).lt(100),
      reason,
      list_amount: z
        .object({
          currency_code: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
          amount_minor: z.number().int().nonnegative(),
        })
        .strict(),
    })
    .strict(),
});

export const moveOpportunityStageTool = defineTool({
  name: 'move_opportunity_stage',
  description: 'Move the opportunity from the stage the record shows to another stage.',
  schema: z.object({ from_stage: id, to_stage: id }).strict(),
});

export const updateFieldTool = defineTool({
  name: 'update_field',
  description: 'Set one field of the record; previous_value is the value the record shows now.',
  schema: z
    .object({ field: id, value: z.string().max(2000), previous_value: z.string().max(2000) })
    .strict(),
});

export const replyToCaseTool = defineTool({
  name: 'reply_to_case',
  description: 'Reply on the case: public to the customer, or an internal note (public: false).',
  schema: z.object({ body: z.string().trim().min(1).max(10000), public: z.boolean() }).strict(),
});

export const closeCaseTool = defineTool({
  name: 'close_case',
  description: 'Close the case with a resolution code and a summary.',
  schema: z.object({ resolution_code: code, summary: reason }).strict(),
});

export const handOffTool = defineTool({
  name: 'hand_off',
  description: 'Give the item to a human, with the reason and any candidate record ids.',
  schema: z.object({ reason, candidates: z.array(id).max(50) }).strict(),
});

export const escalateTool = defineTool({
  name: 'escalate',
  description: 'Hand the case to a specialist team now, with the reason.',
  schema: z.object({ reason }).strict(),
});

export const noActionTool = defineTool({
  name: 'no_action',
  description: 'Do nothing now, with the reason.',
  schema: z.object({ reason }).strict(),
});

/** Every agent tool, by name. */
export const AGENT_TOOLS = {
  qualify_lead: qualifyLeadTool,
  disqualify_lead: disqualifyLeadTool,
  assign_owner: assignOwnerTool,
  send_email: sendEmailTool,
  apply_discount: applyDiscountTool,
  move_opportunity_stage: moveOpportunityStageTool,
  update_field: updateFieldTool,
  reply_to_case: replyToCaseTool,
  close_case: closeCaseTool,
  hand_off: handOffTool,
  escalate: escalateTool,
  no_action: noActionTool,
} as const;

export type AgentToolName = keyof typeof AGENT_TOOLS;
export type AgentToolSpec = (typeof AGENT_TOOLS)[AgentToolName];

/** The arguments of each tool, as its schema outputs them. */
export type AgentToolArgs = {
  [N in AgentToolName]: z.output<(typeof AGENT_TOOLS)[N]['schema']>;
};

/** A tool call an offline responder makes, typed by tool name. */
export type AgentToolCall = {
  [N in AgentToolName]: { readonly name: N; readonly args: AgentToolArgs[N] };
}[AgentToolName];

/** Builds a typed tool call (keeps responders honest about argument shapes). */
export function call<N extends AgentToolName>(name: N, args: AgentToolArgs[N]): AgentToolCall {
  return { name, args } as AgentToolCall;
}

export const AGENT_TOOL_NAMES = Object.keys(AGENT_TOOLS) as AgentToolName[];
