import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ActionProposal } from '@mandate/contracts';
import {
  DEMO_DATASET,
  DEMO_REFERENCE_DATE,
  EMBEDDED_CAPABILITIES,
  type DemoRecord,
} from '@mandate/connectors-domain';
import {
  PseudonymVault,
  knownPersonalValues,
  outreachAllowed,
  promptFields,
  resolveCaseReference,
  resolveMention,
  selectFields,
  untrustedBlock,
  type FieldSelection,
  type FieldValue,
  type KnownValue,
  type Resolution,
} from '@mandate/data-governance';
import { OfflineModel } from '@mandate/model-gateway';
import {
  AGENT_DEFINITIONS,
  AGENT_IDS,
  OFFLINE_RESPONDERS,
  buildAgentRequest,
  dataPolicyOf,
  toProposals,
  type ActivityItem,
  type AgentContext,
  type AgentDefinition,
  type AgentId,
  type AgentInput,
  type ProposalSet,
} from '@mandate/orchestrator-agents';
import {
  PROMPT_POINTERS,
  PROMPT_VERSIONS,
  PromptRegistry,
  renderPrompt,
  seedFromDirectory,
  type RenderedPrompt,
} from '@mandate/prompt-registry';
import { InMemoryDocumentStore } from '@mandate/storage';

/**
 * `mandate agents list|run`: what each agent is for, and a dry run of one agent on one record of
 * the embedded demo dataset with its offline rules (not an LLM). The run goes the way the
 * governance README prescribes (field selection, pseudonyms, untrusted blocks, consent and entity
 * resolution in code), renders the agent's prompt from the repository's prompts/ and prints the
 * proposals it would make. Nothing is executed and nothing is sent to policy; the output keeps the
 * pseudonym tokens (no restore).
 */

export interface AgentsIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

const stdio: AgentsIo = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
};

export const AGENTS_USAGE = `usage:
  mandate agents list
  mandate agents run --agent NAME --record ID [--tenant acme] [--json]`;

/** Time zone of the demo tenant (quiet hours for outreach). */
const DEMO_TIME_ZONE = 'Europe/London';
const MAX_ACTIVITY = 5;
const DATASET_LABEL = 'embedded demo dataset';

/**
 * The repository's prompts/ directory: `MANDATE_PROMPTS_DIR` when set, else found by walking up
 * from this file (works from the sources and from dist/out-tsc), like `defaultBundleDir`.
 */
export function defaultPromptsDir(): string {
  if (process.env.MANDATE_PROMPTS_DIR) return path.resolve(process.env.MANDATE_PROMPTS_DIR);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'prompts');
    if (existsSync(path.join(candidate, 'lead-qualification', 'prompt.md'))) return candidate;
    if (path.dirname(dir) === dir) return path.resolve('prompts');
  }
}

/** Dispatches `mandate agents SUBCOMMAND ARGS…`; returns the exit code. */
export async function agentsCli(
  sub: string | undefined,
  args: string[],
  io: AgentsIo = stdio,
): Promise<number> {
  if (sub === 'list') {
    if (args.length) return usageError(io, `unexpected argument(s) ${args.join(' ')}`);
    return agentsList(io);
  }
  if (sub === 'run') return agentsRun(args, io);
  return usageError(io, sub ? `unknown agents command "${sub}"` : 'missing agents command');
}

function usageError(io: AgentsIo, message: string): number {
  io.err(`mandate agents: ${message}\n${AGENTS_USAGE}`);
  return 2;
}

function agentsList(io: AgentsIo): number {
  for (const id of AGENT_IDS) {
    const a = AGENT_DEFINITIONS[id];
    io.out(`${a.id}`);
    io.out(`  ${a.description}`);
    io.out(`  purpose:  ${a.purpose}`);
    io.out(`  triggers: ${a.triggers.join(', ')}`);
    io.out(`  tools:    ${a.tools.join(', ')}`);
    io.out(`  ceiling:  ${a.autonomyCeiling} (most autonomy policy may grant)`);
    io.out(`  prompt:   prompts/${a.promptId}/prompt.md`);
  }
  return 0;
}

interface RunArgs {
  readonly agent: AgentId;
  readonly recordId: string;
  readonly tenant: string;
  readonly json: boolean;
}

function parseRunArgs(args: string[], io: AgentsIo): RunArgs | number {
  let agent: string | undefined;
  let recordId: string | undefined;
  let tenant = 'acme';
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--agent' || a === '--record' || a === '--tenant') {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--'))
        return usageError(io, `${a} needs a value`);
      i++;
      if (a === '--agent') agent = value;
      else if (a === '--record') recordId = value;
      else tenant = value;
    } else return usageError(io, `unknown option "${a}"`);
  }
  if (!agent) return usageError(io, `--agent is required (one of ${AGENT_IDS.join(', ')})`);
  if (!(AGENT_IDS as string[]).includes(agent))
    return usageError(io, `unknown agent "${agent}"; valid agents: ${AGENT_IDS.join(', ')}`);
  if (!recordId) return usageError(io, '--record is required (a demo record id, e.g. lead-0001)');
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(tenant))
    return usageError(io, `--tenant must be a tenant id such as acme, got "${tenant}"`);
  return { agent: agent as AgentId, recordId, tenant, json };
}

function byId(id: string): DemoRecord | undefined {
  return DEMO_DATASET.find((r) => r.id === id);
}

function examplesOf(types: readonly string[]): string {
  return types
    .map((t) => {
      const ids = DEMO_DATASET.filter((r) => r.objectType === t)
        .slice(0, 3)
        .map((r) => r.id);
      return `${t} (e.g. ${ids.join(', ')})`;
    })
    .join('; ');
}

function activityOf(relatedIds: readonly string[]): DemoRecord[] {
  return DEMO_DATASET.filter(
    (r) => r.objectType === 'activity' && relatedIds.includes(String(r.fields['relatedId'])),
  )
    .sort((a, b) => String(b.fields['occurredAt']).localeCompare(String(a.fields['occurredAt'])))
    .slice(0, MAX_ACTIVITY);
}

/** What the run read and withheld, per record (field names only, never values). */
interface FieldReport {
  readonly objectType: string;
  readonly recordId: string;
  readonly read: readonly string[];
  readonly withheld: ReadonlyArray<{ readonly field: string; readonly reason: string }>;
}

function report(selection: FieldSelection, recordId: string): FieldReport {
  return {
    objectType: selection.objectType,
    recordId,
    read: selection.fields.map((f) => f.name),
    withheld: selection.withheld.map((field) => ({
      field,
      reason: selection.withheldReasons[field],
    })),
  };
}

interface Prepared {
  readonly input: AgentInput;
  readonly fields: FieldReport[];
  readonly activityIds: string[];
  readonly relatedAccount?: string;
}

/** Field selection, pseudonymisation and the code-side checks, as the governance README says. */
function prepare(
  agent: AgentDefinition,
  target: DemoRecord,
  tenant: string,
  vault: PseudonymVault,
): Prepared {
  const policy = dataPolicyOf(agent);
  const now = DEMO_REFERENCE_DATE;
  const fields: FieldReport[] = [];
  const known: KnownValue[] = knownPersonalValues(
    EMBEDDED_CAPABILITIES,
    target.objectType,
    target.fields,
  );

  // The related account: its personal values are scrubbed from the text too (e.g. its name).
  const accountId =
    typeof target.fields['accountId'] === 'string' ? target.fields['accountId'] : undefined;
  const account = accountId ? byId(accountId) : undefined;
  if (account) {
    known.push(...knownPersonalValues(EMBEDDED_CAPABILITIES, 'account', account.fields));
    fields.push(
      report(selectFields(policy, EMBEDDED_CAPABILITIES, 'account', account.fields), account.id),
    );
  }

  const selection = selectFields(policy, EMBEDDED_CAPABILITIES, target.objectType, target.fields);
  fields.unshift(report(selection, target.id));
  const record: Record<string, FieldValue> = promptFields(selection, vault, known);
  const email = target.fields['email'];
  if (agent.derived[target.objectType]?.includes('emailDomain') && typeof email === 'string')
    record['emailDomain'] = email.slice(email.lastIndexOf('@') + 1);

  const activities =
    target.objectType === 'activity' ? [target] : activityOf(relatedIdsOf(target, accountId));
  const activity: ActivityItem[] = activities.map((a) => {
    const sel = selectFields(policy, EMBEDDED_CAPABILITIES, 'activity', a.fields);
    const f = promptFields(sel, vault, [
      ...known,
      ...knownPersonalValues(EMBEDDED_CAPABILITIES, 'activity', a.fields),
    ]);
    return {
      kind: String(f['kind']),
      subject: typeof f['subject'] === 'string' ? f['subject'] : undefined,
      body: typeof f['body'] === 'string' ? f['body'] : undefined,
      occurredAt: typeof f['occurredAt'] === 'string' ? f['occurredAt'] : undefined,
    };
  });

  const owners = DEMO_DATASET.filter(
    (r) =>
      r.objectType === 'user' && r.fields['role'] === 'account_executive' && r.fields['active'],
  ).map((r) => ({ ownerId: r.id, territory: String(r.fields['territory']) }));

  const context: AgentContext = {
    tenantRules: { owners, maxDiscountPercent: 20 },
    ...(agent.id === 'outreach'
      ? {
          outreach: outreachAllowed(target.fields, new Date(now), DEMO_TIME_ZONE),
          recipientContactId: target.id,
          resolution: toContext(
            resolveMention(
              { name: String(target.fields['name'] ?? ''), accountId },
              DEMO_DATASET.filter((r) => r.objectType === 'contact'),
            ),
          ),
        }
      : {}),
    ...(agent.id === 'service-triage' && target.objectType === 'activity'
      ? { resolution: caseResolution(target) }
      : {}),
  };
  return {
    input: {
      tenantId: tenant,
      target: { objectType: target.objectType, recordId: target.id },
      now,
      record,
      activity,
      context,
    },
    fields,
    activityIds: activities.map((a) => a.id),
    relatedAccount: account?.id,
  };
}

/**
 * Records whose activity the agent reads: the target's own; for a contact also its account's and
 * the account's opportunities' and cases' (the latest conversation with that customer).
 */
function relatedIdsOf(target: DemoRecord, accountId: string | undefined): string[] {
  if (target.objectType !== 'contact' || !accountId) return [target.id];
  const onAccount = DEMO_DATASET.filter(
    (r) =>
      (r.objectType === 'opportunity' || r.objectType === 'case') &&
      r.fields['accountId'] === accountId,
  ).map((r) => r.id);
  return [target.id, accountId, ...onAccount];
}

function toContext(resolution: Resolution): AgentContext['resolution'] {
  if (resolution.kind === 'resolved') return { kind: 'resolved', id: resolution.id };
  if (resolution.kind === 'ambiguous')
    return {
      kind: 'ambiguous',
      candidates: resolution.candidates.map(({ id, why }) => ({ id, why })),
    };
  return { kind: 'none' };
}

/** Which case an inbound email means, among the sender's (or its account's) cases. */
function caseResolution(activity: DemoRecord): AgentContext['resolution'] {
  const relatedType = activity.fields['relatedType'];
  const relatedId = String(activity.fields['relatedId'] ?? '');
  if (relatedType === 'case') return { kind: 'resolved', id: relatedId };
  const contact = relatedType === 'contact' ? byId(relatedId) : undefined;
  const accountId = relatedType === 'account' ? relatedId : contact?.fields['accountId'];
  const cases = DEMO_DATASET.filter(
    (r) =>
      r.objectType === 'case' &&
      (r.fields['contactId'] === relatedId || r.fields['accountId'] === accountId),
  );
  return toContext(resolveCaseReference(String(activity.fields['body'] ?? ''), cases));
}

async function renderAgentPrompt(
  agent: AgentDefinition,
  input: AgentInput,
): Promise<RenderedPrompt> {
  const registry = new PromptRegistry({
    versions: new InMemoryDocumentStore(PROMPT_VERSIONS),
    pointers: new InMemoryDocumentStore(PROMPT_POINTERS),
  });
  await seedFromDirectory(registry, defaultPromptsDir());
  const version = await registry.active(agent.promptId);
  // Untrusted values go in as defused DATA blocks: they cannot close the template's own block.
  const values: Record<string, string> = {
    record: untrustedBlock('record', JSON.stringify(input.record)),
    activity: untrustedBlock('activity', JSON.stringify(input.activity)),
    now: input.now,
    tenant_rules: JSON.stringify(input.context.tenantRules ?? {}),
    consent: JSON.stringify(input.context.outreach ?? {}),
  };
  const vars = Object.fromEntries(version.variables.map((name) => [name, values[name] ?? '']));
  return renderPrompt(version, vars);
}

async function agentsRun(args: string[], io: AgentsIo): Promise<number> {
  const parsed = parseRunArgs(args, io);
  if (typeof parsed === 'number') return parsed;
  const agent = AGENT_DEFINITIONS[parsed.agent];
  const target = byId(parsed.recordId);
  if (!target)
    return usageError(
      io,
      `no record "${parsed.recordId}" in the ${DATASET_LABEL}; ${agent.id} handles ${examplesOf(agent.triggers)}`,
    );
  if (!agent.triggers.includes(target.objectType))
    return usageError(
      io,
      `${agent.id} does not handle ${target.objectType} records (${target.id}); it handles ${agent.triggers.join(', ')}: ${examplesOf(agent.triggers)}`,
    );

  const runId = `cli-${agent.id}-${target.id}`;
  const vault = new PseudonymVault(parsed.tenant, runId);
  const prepared = prepare(agent, target, parsed.tenant, vault);
  const rendered = await renderAgentPrompt(agent, prepared.input);

  // The offline rules read the structured request; the rendered prompt replaces its marker line.
  const built = buildAgentRequest(agent, prepared.input);
  const request = {
    ...built,
    messages: built.messages.map((m) =>
      m.role === 'system'
        ? { ...m, content: m.content.replace(`Prompt: ${agent.promptId}`, rendered.system) }
        : m,
    ),
  };
  const model = new OfflineModel(OFFLINE_RESPONDERS[agent.id]);
  const response = await model.invoke(request);
  if (!response.ok) {
    io.err(`mandate agents: ${agent.id} on ${target.id} failed safe: ${response.reason}`);
    return 1;
  }
  const set = toProposals({
    agent: agent.id,
    tenantId: parsed.tenant,
    correlationId: runId,
    target: prepared.input.target,
    toolCalls: response.toolCalls,
    prompt: rendered.ref,
    model: response.model,
    planId: `plan-${runId}`,
    stepIndex: 0,
    now: prepared.input.now,
    // No restore: this is a preview, before any policy decision; the output keeps the tokens.
  });

  if (parsed.json) {
    io.out(
      JSON.stringify(
        {
          dataset: DATASET_LABEL,
          agent: agent.id,
          target: prepared.input.target,
          now: prepared.input.now,
          model: { label: model.label, ref: response.model },
          prompt: rendered.ref,
          fields: prepared.fields,
          activity: prepared.activityIds,
          context: summariseContext(prepared.input.context),
          proposals: set.proposals.map((p) => ActionProposal.toJSON(p)),
          handoffs: set.handoffs,
          noActions: set.noActions,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  printRun(io, agent, prepared, rendered, model.label, set);
  return 0;
}

function summariseContext(context: AgentContext): Record<string, unknown> {
  return {
    ...(context.outreach ? { outreach: context.outreach } : {}),
    ...(context.resolution ? { resolution: context.resolution } : {}),
    owners: context.tenantRules?.owners?.length ?? 0,
    maxDiscountPercent: context.tenantRules?.maxDiscountPercent,
  };
}

function printRun(
  io: AgentsIo,
  agent: AgentDefinition,
  prepared: Prepared,
  rendered: RenderedPrompt,
  modelLabel: string,
  set: ProposalSet,
): void {
  const { input } = prepared;
  io.out(
    `${agent.id} on ${input.target.objectType} ${input.target.recordId} (tenant ${input.tenantId})`,
  );
  io.out(`  data:     ${DATASET_LABEL} (time ${input.now}, the dataset's reference date)`);
  io.out(`  model:    ${modelLabel}`);
  io.out(
    `  prompt:   ${rendered.ref.promptId} v${rendered.ref.version} ${rendered.ref.contentHash} (seeded from prompts/)`,
  );
  for (const f of prepared.fields) {
    io.out(`  read:     ${f.objectType} ${f.recordId}: ${f.read.join(', ') || '(nothing)'}`);
    io.out(
      `  withheld: ${f.objectType} ${f.recordId}: ${
        f.withheld.map((w) => `${w.field} (${w.reason})`).join(', ') || '(nothing)'
      }`,
    );
  }
  io.out(
    `  activity: ${prepared.activityIds.length ? prepared.activityIds.join(', ') : '(none)'} (scrubbed, in untrusted DATA blocks)`,
  );
  const ctx = input.context;
  if (ctx.outreach)
    io.out(
      `  consent:  ${ctx.outreach.allowed ? 'allowed now' : `refused: ${ctx.outreach.reason}`} (checked in code)`,
    );
  if (ctx.resolution)
    io.out(
      `  resolves: ${
        ctx.resolution.kind === 'ambiguous'
          ? `ambiguous (${ctx.resolution.candidates.map((c) => c.id).join(', ')})`
          : ctx.resolution.kind === 'resolved'
            ? `resolved (${ctx.resolution.id})`
            : 'none'
      }`,
    );
  io.out('');
  io.out(`Proposals (${set.proposals.length}):`);
  set.proposals.forEach((p, i) => {
    const kind = p.action?.kind;
    const type = kind ? snake(kind.$case) : '(none)';
    io.out(`  ${i + 1}. ${type} on ${p.target?.objectType} ${p.target?.recordId}`);
    if (kind)
      io.out(`     args:      ${formatArgs(kind.value as unknown as Record<string, unknown>)}`);
    io.out(`     rationale: ${p.rationale}`);
    io.out(`     key:       ${p.idempotencyKey}`);
  });
  if (set.handoffs.length) {
    io.out(`Hand-offs (${set.handoffs.length}):`);
    for (const h of set.handoffs)
      io.out(
        `  - ${h.kind}: ${h.reason}${h.candidates.length ? ` [candidates: ${h.candidates.join(', ')}]` : ''}`,
      );
  }
  if (set.noActions.length) {
    io.out(`No action (${set.noActions.length}):`);
    for (const n of set.noActions) io.out(`  - ${n.reason}`);
  }
  io.out('');
  io.out('Preview only: nothing was executed or sent to policy; pseudonym tokens (⟦…⟧) are kept.');
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function formatArgs(value: Record<string, unknown>): string {
  return Object.entries(value)
    .filter(([, v]) => v !== '' && v !== undefined)
    .map(([k, v]) => {
      if (v && typeof v === 'object') {
        const m = v as { currencyCode?: string; amountMinor?: string };
        if (m.currencyCode !== undefined) return `${k}=${m.currencyCode} ${m.amountMinor} (minor)`;
        return `${k}=${JSON.stringify(v)}`;
      }
      const text = String(v);
      const oneLine = text.replace(/\s+/g, ' ');
      return `${k}=${oneLine.length > 80 ? `${JSON.stringify(oneLine.slice(0, 79))}…` : JSON.stringify(v)}`;
    })
    .join('  ');
}
