import type { PromptRef } from '@mandate/contracts';
import { actionPseudonymTokens, mergeField, pseudonymTokensIn } from '@mandate/contracts';
import { PseudonymVault } from '@mandate/data-governance';
import { renderPrompt, type PromptRegistry } from '@mandate/prompt-registry';
import { AGENT_DEFINITIONS, type AgentId } from './agent-definitions';
import {
  agentRequestParts,
  buildAgentRequest,
  withPrompt,
  type AgentInput,
  type AgentRequestParts,
  type StepFeedback,
  type TenantRules,
} from './agent-input';
import {
  prepareAgentInput,
  type ContextRecord,
  type CrmContextSource,
  type FieldReport,
} from './context';
import type { AgentModelPort, ModelRefLikeOfPort, ModelUsageLike } from './model-port';
import { toProposals, type HandOff, type ProposalSet } from './proposals';

/**
 * One step of one agent, end to end and without side effects: read the context through the
 * connector, select and pseudonymise fields, render the active prompt, ask the tenant's model,
 * and map its validated tool calls to proposals. Outbound texts that quote a pseudonym of the
 * target (or the recipient contact) get a merge field in its place (`⟦REF:contact/c-1/name⟧`),
 * which only the connector fills, after the decision; a draft that quotes any other personal
 * value cannot be restored and becomes a hand-off instead of a proposal.
 */

export interface StepRunnerDeps {
  readonly source: CrmContextSource;
  /** The tenant's model (its route: data residency). */
  readonly modelFor: (tenantId: string) => AgentModelPort;
  readonly prompts: PromptRegistry;
}

export interface StepRequest {
  readonly agent: AgentId;
  readonly tenantId: string;
  readonly correlationId: string;
  readonly target: ContextRecord;
  readonly planId: string;
  readonly stepIndex: number;
  readonly now: Date;
  readonly timeZone: string;
  readonly tenantRules?: TenantRules;
  readonly feedback?: StepFeedback;
}

export interface StepSuccess {
  readonly ok: true;
  /** What the model was given (tokens only, no personal values). */
  readonly input: AgentInput;
  readonly set: ProposalSet;
  readonly prompt: PromptRef;
  readonly model: ModelRefLikeOfPort;
  readonly modelLabel: string;
  readonly usage: ModelUsageLike;
  readonly fields: readonly FieldReport[];
  readonly activityIds: readonly string[];
}

export interface StepFailure {
  readonly ok: false;
  /** `CODE: detail`, never prompt or completion content. */
  readonly reason: string;
  readonly model: ModelRefLikeOfPort;
  readonly modelLabel: string;
  readonly usage: ModelUsageLike;
  readonly prompt?: PromptRef;
}

export type StepResult = StepSuccess | StepFailure;

/**
 * Renders the agent's active prompt with the step's values: the DATA blocks and lines exactly as
 * `parts` has them (untrusted text only ever inside a nonce-delimited block).
 */
export async function renderAgentPrompt(
  prompts: PromptRegistry,
  promptId: string,
  input: AgentInput,
  parts: AgentRequestParts = agentRequestParts(input),
): Promise<{
  system: string;
  user: string;
  ref: PromptRef;
  template: { system: string; user: string };
}> {
  const version = await prompts.active(promptId);
  const values: Record<string, string> = {
    record: parts.recordBlock,
    activity: parts.activityBlock,
    now: input.now,
    target: `${input.target.objectType} ${input.target.recordId}`,
    tenant_rules: JSON.stringify(input.context.tenantRules ?? {}),
    consent: JSON.stringify(input.context.outreach ?? {}),
  };
  const vars = Object.fromEntries(version.variables.map((name) => [name, values[name] ?? '']));
  const rendered = renderPrompt(version, vars);
  return {
    system: rendered.system,
    user: rendered.user,
    ref: rendered.ref,
    template: { system: version.template.system, user: version.template.user },
  };
}

export async function runAgentStep(deps: StepRunnerDeps, req: StepRequest): Promise<StepResult> {
  const agent = AGENT_DEFINITIONS[req.agent];
  const vault = new PseudonymVault(req.tenantId, `${req.planId}/${req.stepIndex}`);
  const prepared = await prepareAgentInput(agent, req.target, deps.source, vault, {
    tenantId: req.tenantId,
    now: req.now.toISOString(),
    timeZone: req.timeZone,
    tenantRules: req.tenantRules,
  });
  const input: AgentInput = req.feedback
    ? { ...prepared.input, context: { ...prepared.input.context, feedback: req.feedback } }
    : prepared.input;
  const parts = agentRequestParts(input);
  const rendered = await renderAgentPrompt(deps.prompts, agent.promptId, input, parts);
  const request = withPrompt(
    buildAgentRequest(agent, input, undefined, parts),
    agent,
    parts,
    rendered,
  );
  const model = deps.modelFor(req.tenantId);
  const response = await model.invoke(request);
  if (!response.ok)
    return {
      ok: false,
      reason: response.reason,
      model: response.model,
      modelLabel: model.label,
      usage: response.usage,
      prompt: rendered.ref,
    };

  // Tokens of the target's (or recipient's) own fields become merge fields; others are reported.
  const unrestorable = new Set<string>();
  const toMergeFields = (text: string): string => {
    let out = text;
    for (const token of pseudonymTokensIn(text)) {
      const source = prepared.tokenSources.get(token);
      if (source)
        out = out.split(token).join(mergeField(source.objectType, source.recordId, source.field));
      else unrestorable.add(token);
    }
    return out;
  };
  // An inbound email is about the record code resolved it to (never one the model names).
  const resolution = input.context.resolution;
  const target =
    input.target.objectType === 'activity' && resolution?.kind === 'resolved'
      ? { objectType: 'case', recordId: resolution.id }
      : input.target;
  const mapped = toProposals({
    agent: agent.id,
    tenantId: req.tenantId,
    correlationId: req.correlationId,
    target,
    toolCalls: response.toolCalls,
    prompt: rendered.ref,
    model: response.model,
    planId: req.planId,
    stepIndex: req.stepIndex,
    now: req.now,
    restore: toMergeFields,
  });
  const restorable = unrestorable.size ? withoutUnrestorable(mapped) : mapped;
  const set = target.objectType === 'activity' ? withoutActivityTargets(restorable) : restorable;
  return {
    ok: true,
    input,
    set,
    prompt: rendered.ref,
    model: response.model,
    modelLabel: model.label,
    usage: response.usage,
    fields: prepared.fields,
    activityIds: prepared.activityIds,
  };
}

/** Drafts that still quote a pseudonym go to a human: nothing could put the value back. */
function withoutUnrestorable(set: ProposalSet): ProposalSet {
  const kept = set.proposals.filter((p) => actionPseudonymTokens(p.action).length === 0);
  const dropped = set.proposals.length - kept.length;
  const handoff: HandOff = {
    kind: 'hand_off',
    toolIndex: -1,
    reason: `${dropped} draft(s) quote personal data that is not a field of the target or recipient; a human must write them.`,
    candidates: [],
  };
  return {
    proposals: kept,
    handoffs: dropped ? [...set.handoffs, handoff] : set.handoffs,
    noActions: set.noActions,
  };
}

/** Actions on an inbound email itself mean no case was identified: a human routes it. */
function withoutActivityTargets(set: ProposalSet): ProposalSet {
  if (set.proposals.length === 0) return set;
  return {
    proposals: [],
    handoffs: [
      ...set.handoffs,
      {
        kind: 'hand_off',
        toolIndex: -1,
        reason: `The inbound email matches no single open case; ${set.proposals.length} proposed action(s) withheld for a human to route.`,
        candidates: [],
      },
    ],
    noActions: set.noActions,
  };
}
