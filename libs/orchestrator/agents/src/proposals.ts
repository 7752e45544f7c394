import { createHash } from 'node:crypto';
import type { ActionProposal, CrmAction, ModelRef, PromptRef } from '@mandate/contracts';
import { AGENT_DEFINITIONS, type AgentId } from './agent-definitions';
import { AGENT_TOOLS, type AgentToolArgs, type AgentToolName } from './tools';

/**
 * Turns an agent's validated tool calls into `ActionProposal`s (`proto/mandate/v1/action.proto`):
 * one proposal per CRM action call, with deterministic ids and idempotency keys, a short
 * rationale, the confidence and the prompt/model references. The non-actions (`hand_off`,
 * `escalate`, `no_action`) are returned beside the proposals: they are outcomes for the review
 * queue, never proposals for policy.
 *
 * Pseudonyms: the tool arguments carry tokens (`⟦PERSON_1⟧`) and so do the proposals, their
 * rationales and everything derived from them. `restore` (e.g. a `PseudonymVault`'s restore) is
 * applied to the free-text action fields only (email subject and body, case reply body), and a
 * caller passes it ONLY after policy (and, when asked, a human) has decided on the pseudonymised
 * proposal, right before execution. Previews (the `mandate agents run` CLI), review screens and
 * audit records pass none: their output keeps the tokens. Rationales are never restored.
 */

/** The model a proposal records (the gateway's `ModelRefLike`; parameters may be read-only). */
export interface ProposalModelRef {
  readonly provider: string;
  readonly model: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly offline: boolean;
}

export interface ToProposalsInput {
  readonly agent: AgentId;
  readonly tenantId: string;
  readonly correlationId: string;
  readonly target: { readonly objectType: string; readonly recordId: string };
  /** The tool calls the model gateway validated, in the order the model made them. */
  readonly toolCalls: ReadonlyArray<{ readonly name: string; readonly args: unknown }>;
  readonly prompt: PromptRef;
  readonly model: ProposalModelRef;
  readonly planId: string;
  readonly stepIndex: number;
  readonly now: Date | string;
  /** Agent confidence 0..1 recorded on each proposal; default `DEFAULT_CONFIDENCE`. */
  readonly confidence?: number;
  /**
   * Applied to free-text action fields (email subject/body, reply body). Pass it only after the
   * policy decision; omit it for previews (the output then keeps the pseudonym tokens).
   */
  readonly restore?: (text: string) => string;
}

/** A `hand_off` or `escalate` call: a human takes the item. */
export interface HandOff {
  readonly kind: 'hand_off' | 'escalate';
  /** Index of the call among the step's tool calls. */
  readonly toolIndex: number;
  readonly reason: string;
  /** Candidate record ids (hand_off with an ambiguous reference); empty otherwise. */
  readonly candidates: readonly string[];
}

/** A `no_action` call. */
export interface NoAction {
  readonly toolIndex: number;
  readonly reason: string;
  /** The leading upper-case code of the reason (`OPTED_OUT: …` → `OPTED_OUT`), if any. */
  readonly code?: string;
}

export interface ProposalSet {
  readonly proposals: ActionProposal[];
  readonly handoffs: HandOff[];
  readonly noActions: NoAction[];
}

/** Uncalibrated: rules and models without a confidence score neither raise nor lower risk. */
export const DEFAULT_CONFIDENCE = 0.5;
const MAX_RATIONALE = 500;

/** Thrown on a call that is not a valid tool call of the agent (a bug upstream: not recoverable). */
export class ProposalMappingError extends Error {
  override readonly name = 'ProposalMappingError';
}

/** Deterministic idempotency key of one tool call of one plan step (sha256, hex). */
export function proposalIdempotencyKey(
  tenantId: string,
  planId: string,
  stepIndex: number,
  toolIndex: number,
): string {
  return sha256(['idempotency', tenantId, planId, String(stepIndex), String(toolIndex)]);
}

/** A deterministic UUID-shaped id (version 5 layout) from its parts (sha256, length-prefixed). */
export function deterministicUuid(parts: readonly string[]): string {
  const hex = sha256(parts);
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `5${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}

/** Deterministic proposal id of one tool call of one plan step. */
export function proposalIdOf(
  tenantId: string,
  planId: string,
  stepIndex: number,
  toolIndex: number,
): string {
  return deterministicUuid(['proposal', tenantId, planId, String(stepIndex), String(toolIndex)]);
}

export function toProposals(input: ToProposalsInput): ProposalSet {
  const definition = AGENT_DEFINITIONS[input.agent];
  if (!definition) throw new ProposalMappingError(`unknown agent "${String(input.agent)}"`);
  const confidence = input.confidence ?? DEFAULT_CONFIDENCE;
  if (!(confidence >= 0 && confidence <= 1))
    throw new ProposalMappingError(`confidence must be within 0..1, got ${confidence}`);
  if (!Number.isInteger(input.stepIndex) || input.stepIndex < 0)
    throw new ProposalMappingError(`stepIndex must be a non-negative integer`);
  const createdAt = typeof input.now === 'string' ? new Date(input.now) : input.now;
  if (Number.isNaN(createdAt.getTime())) throw new ProposalMappingError('now is not a valid time');
  const restore = input.restore ?? ((text: string) => text);

  const out: ProposalSet = { proposals: [], handoffs: [], noActions: [] };
  input.toolCalls.forEach((call, toolIndex) => {
    const name = call.name as AgentToolName;
    if (!Object.prototype.hasOwnProperty.call(AGENT_TOOLS, name))
      throw new ProposalMappingError(`call ${toolIndex}: unknown tool "${call.name}"`);
    if (!definition.tools.includes(name))
      throw new ProposalMappingError(
        `call ${toolIndex}: ${definition.id} may not call "${call.name}"`,
      );
    const parsed = AGENT_TOOLS[name].schema.safeParse(call.args);
    if (!parsed.success)
      throw new ProposalMappingError(
        `call ${toolIndex} (${call.name}): invalid arguments: ${parsed.error.issues
          .map((i) => `${i.path.join('.') || '(root)'} ${i.message}`)
          .join('; ')}`,
      );
    const typed = { name, args: parsed.data } as TypedCall;

    switch (typed.name) {
      case 'hand_off':
        out.handoffs.push({
          kind: 'hand_off',
          toolIndex,
          reason: typed.args.reason,
          candidates: [...typed.args.candidates],
        });
        return;
      case 'escalate':
        out.handoffs.push({
          kind: 'escalate',
          toolIndex,
          reason: typed.args.reason,
          candidates: [],
        });
        return;
      case 'no_action': {
        const code = /^([A-Z][A-Z0-9_]{1,39}):/.exec(typed.args.reason)?.[1];
        out.noActions.push({ toolIndex, reason: typed.args.reason, ...(code ? { code } : {}) });
        return;
      }
      default: {
        const { action, rationale } = toAction(typed, restore);
        out.proposals.push({
          proposalId: proposalIdOf(input.tenantId, input.planId, input.stepIndex, toolIndex),
          tenantId: input.tenantId,
          correlationId: input.correlationId,
          agentId: definition.id,
          idempotencyKey: proposalIdempotencyKey(
            input.tenantId,
            input.planId,
            input.stepIndex,
            toolIndex,
          ),
          target: { objectType: input.target.objectType, recordId: input.target.recordId },
          action,
          rationale: shorten(rationale),
          confidence,
          prompt: { ...input.prompt },
          model: toModelRef(input.model),
          planId: input.planId,
          stepIndex: input.stepIndex,
          createdAt: createdAt.toISOString(),
        });
      }
    }
  });
  return out;
}

type TypedCall = {
  [N in AgentToolName]: { readonly name: N; readonly args: AgentToolArgs[N] };
}[AgentToolName];

type ActionCall = Exclude<TypedCall, { name: 'hand_off' | 'escalate' | 'no_action' }>;

function toAction(
  call: ActionCall,
  restore: (text: string) => string,
): { action: CrmAction; rationale: string } {
  switch (call.name) {
    case 'qualify_lead':
      return {
        action: { kind: { $case: 'qualifyLead', value: { ...call.args } } },
        rationale: `Qualify (score ${call.args.score}): ${call.args.reason}`,
      };
    case 'disqualify_lead':
      return {
        action: {
          kind: {
            $case: 'disqualifyLead',
            value: { reasonCode: call.args.reason_code, reason: call.args.reason },
          },
        },
        rationale: `Disqualify (${call.args.reason_code}): ${call.args.reason}`,
      };
    case 'assign_owner':
      return {
        action: {
          kind: {
            $case: 'assignOwner',
            value: { ownerId: call.args.owner_id, reason: call.args.reason },
          },
        },
        rationale: `Assign to ${call.args.owner_id}: ${call.args.reason}`,
      };
    case 'send_email':
      return {
        action: {
          kind: {
            $case: 'sendEmail',
            value: {
              toContactId: call.args.to_contact_id,
              subject: restore(call.args.subject),
              body: restore(call.args.body),
              templateId: call.args.template_id ?? '',
            },
          },
        },
        rationale: `Email draft to contact ${call.args.to_contact_id}: "${call.args.subject}"`,
      };
    case 'apply_discount':
      return {
        action: {
          kind: {
            $case: 'applyDiscount',
            value: {
              discountPercent: call.args.discount_percent,
              reason: call.args.reason,
              listAmount: {
                currencyCode: call.args.list_amount.currency_code,
                amountMinor: String(call.args.list_amount.amount_minor),
              },
            },
          },
        },
        rationale: `${call.args.discount_percent}% discount: ${call.args.reason}`,
      };
    case 'move_opportunity_stage':
      return {
        action: {
          kind: {
            $case: 'moveOpportunityStage',
            value: { fromStage: call.args.from_stage, toStage: call.args.to_stage },
          },
        },
        rationale: `Move the stage from ${call.args.from_stage} to ${call.args.to_stage}`,
      };
    case 'update_field':
      return {
        action: {
          kind: {
            $case: 'updateField',
            value: {
              field: call.args.field,
              value: call.args.value,
              previousValue: call.args.previous_value,
            },
          },
        },
        rationale: `Set ${call.args.field} from "${call.args.previous_value}" to "${call.args.value}"`,
      };
    case 'reply_to_case':
      return {
        action: {
          kind: {
            $case: 'replyToCase',
            value: { body: restore(call.args.body), public: call.args.public },
          },
        },
        rationale: `${call.args.public ? 'Public reply to the customer' : 'Internal note'}: ${firstLine(call.args.body)}`,
      };
    case 'close_case':
      return {
        action: {
          kind: {
            $case: 'closeCase',
            value: { resolutionCode: call.args.resolution_code, summary: call.args.summary },
          },
        },
        rationale: `Close (${call.args.resolution_code}): ${call.args.summary}`,
      };
  }
}

function toModelRef(model: ProposalModelRef): ModelRef {
  return {
    provider: model.provider,
    model: model.model,
    parameters: { ...model.parameters },
    offline: model.offline,
  };
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  );
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= MAX_RATIONALE ? flat : `${flat.slice(0, MAX_RATIONALE - 1)}…`;
}

function sha256(parts: readonly string[]): string {
  // Length-prefixed parts: ("a|b", "c") and ("a", "b|c") never collide.
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:${part};`);
  return hash.digest('hex');
}
