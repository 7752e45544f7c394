import { ActionProposal } from '@mandate/contracts';
import {
  DEMO_DATASET,
  DEMO_REFERENCE_DATE,
  EMBEDDED_CAPABILITIES,
  type DemoRecord,
} from '@mandate/connectors-domain';
import {
  AGENT_DEFINITIONS,
  AGENT_IDS,
  StaticContextSource,
  runAgentStep,
  type AgentContext,
  type AgentDefinition,
  type AgentId,
  type StepSuccess,
} from '@mandate/orchestrator-agents';
import { OfflineAgentsModel } from '@mandate/orchestrator-service';
import {
  PROMPT_POINTERS,
  PROMPT_VERSIONS,
  PromptRegistry,
  seedFromDirectory,
} from '@mandate/prompt-registry';
import { InMemoryDocumentStore } from '@mandate/storage';
import { defaultPromptsDir } from './bundle-dir';

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
const DATASET_LABEL = 'embedded demo dataset';

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

/** The demo dataset as the agents' context source (what the embedded connector would return). */
function demoSource(): StaticContextSource {
  return new StaticContextSource(
    EMBEDDED_CAPABILITIES,
    DEMO_DATASET.map((r) => ({ objectType: r.objectType, id: r.id, fields: r.fields })),
  );
}

async function promptRegistry(): Promise<PromptRegistry> {
  const registry = new PromptRegistry({
    versions: new InMemoryDocumentStore(PROMPT_VERSIONS),
    pointers: new InMemoryDocumentStore(PROMPT_POINTERS),
  });
  await seedFromDirectory(registry, defaultPromptsDir());
  return registry;
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
  const model = new OfflineAgentsModel();
  // The same step the orchestrator runs (field selection, pseudonyms, untrusted blocks, consent
  // and entity resolution in code, the active prompt, the model, merge fields), on the dataset.
  const result = await runAgentStep(
    { source: demoSource(), modelFor: () => model, prompts: await promptRegistry() },
    {
      agent: agent.id,
      tenantId: parsed.tenant,
      correlationId: runId,
      target: { objectType: target.objectType, id: target.id, fields: target.fields },
      planId: `plan-${runId}`,
      stepIndex: 0,
      now: new Date(DEMO_REFERENCE_DATE),
      timeZone: DEMO_TIME_ZONE,
      tenantRules: { maxDiscountPercent: 20 },
    },
  );
  if (!result.ok) {
    io.err(`mandate agents: ${agent.id} on ${target.id} failed safe: ${result.reason}`);
    return 1;
  }
  const set = result.set;
  if (parsed.json) {
    io.out(
      JSON.stringify(
        {
          dataset: DATASET_LABEL,
          agent: agent.id,
          target: result.input.target,
          now: result.input.now,
          model: { label: result.modelLabel, ref: result.model },
          prompt: result.prompt,
          fields: result.fields,
          activity: result.activityIds,
          context: summariseContext(result.input.context),
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
  printRun(io, agent, result);
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

function printRun(io: AgentsIo, agent: AgentDefinition, result: StepSuccess): void {
  const { input, set } = result;
  const rendered = { ref: result.prompt };
  const modelLabel = result.modelLabel;
  const prepared = { fields: result.fields, activityIds: result.activityIds };
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
  io.out(
    'Preview only: nothing was executed or sent to policy. Personal values stay pseudonymised: a draft names them by merge fields (⟦REF:…⟧) that only the connector fills, after the decision.',
  );
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
