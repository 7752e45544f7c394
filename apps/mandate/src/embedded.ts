import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { ConnectorsServiceModule, registerConnectorGrpc } from '@mandate/connectors-service';
import {
  ConnectorRegistry,
  CRM_RECORDS,
  type AdapterFactory,
  type ConnectorsConfig,
  DEMO_DATASET,
  DEMO_LEADS,
  EmbeddedCrm,
} from '@mandate/connectors-domain';
import { AuditEntry, AuditKind, GetCausalChainResponse } from '@mandate/contracts';
import {
  DecisionTokenIssuer,
  DecisionTokenVerifier,
  generateSigningKeyPair,
  parsePrivateKey,
  parsePublicKey,
} from '@mandate/decision-token';
import { LedgerReader, NoteSigner, verifierKeyFor } from '@mandate/ledger-domain';
import { LedgerServiceModule, registerLedgerGrpc } from '@mandate/ledger-service';
import { ConnectorContextSource, OrchestratorServiceModule } from '@mandate/orchestrator-service';
import type { TenantSettings } from '@mandate/orchestrator-domain';
import type { AgentModelPort } from '@mandate/orchestrator-agents';
import { cleanTrackRecord, PolicyDecider, TrustRepository } from '@mandate/policy-domain';
import {
  inProcessOversight,
  PolicyOversightApi,
  PolicyServiceModule,
  registerPolicyGrpc,
} from '@mandate/policy-service';
import { Topics } from '@mandate/messaging';
import {
  PolicyUnavailableError,
  type Reviewer,
  type ReviewConfigInput,
} from '@mandate/review-domain';
import {
  ConnectorRecordReader,
  REVIEW_TASK_STORE,
  ReviewServiceModule,
  SlaSweeperHost,
  StaticAgentOwners,
  StaticReviewerDirectory,
  registerReviewGrpc,
  type AgentOwner,
} from '@mandate/review-service';
import { tenantId, type TenantId } from '@mandate/storage';
import {
  ApiTokenAuthenticator,
  createNestApp,
  firstOf,
  LocalOidcIssuer,
  EmbeddedRuntime,
  GrpcServerHost,
  installTracing,
  type ApiTokenEntry,
  type Logger,
} from '@mandate/platform';
import { defaultBundleDir, defaultPromptsDir } from './bundle-dir';

export interface EmbeddedOptions {
  logger: Logger;
  host?: string;
  httpPort?: number;
  grpcPort?: number;
  /** Operators allowed on the admin APIs (hashes only); none means every admin call is 401. */
  apiTokens?: ApiTokenEntry[];
  /** Policy bundle that seeds the (in-memory) bundle store; default: the repository's. */
  bundleDir?: string;
  /**
   * Where the embedded CRM keeps its records across restarts (a journal file per collection);
   * unset: the CRM lives in memory like everything else.
   */
  dataDir?: string;
  /** Load the demo company's dataset into tenant "acme" (records already there are kept). */
  seedDemoData?: boolean;
  /** Which CRM each tenant uses (default: all on the embedded CRM), and the adapters for them. */
  connectors?: ConnectorsConfig;
  connectorFactories?: Readonly<Record<string, AdapterFactory>>;
  /** Each tenant's model; default: the built-in offline rules (not an LLM). */
  modelFor?: (tenantId: string) => AgentModelPort;
  /** prompts/ seeded into the prompt registry; default: the repository's. */
  promptsDir?: string;
  /** Time zone, rules and plan budgets per tenant; default `DEMO_TENANT_SETTINGS`. */
  tenantSettings?: (tenantId: string) => TenantSettings | undefined;
  /** Who may review, per tenant (signs in with `POST /v1/dev/login`); default `DEMO_REVIEWERS`. */
  reviewers?: readonly Reviewer[];
  /** Review routing, SLAs, leases; default `DEMO_REVIEW_CONFIG`. */
  reviewConfig?: ReviewConfigInput;
  /** SLA sweep interval of the review service (default 5 s; 0: only `reviewSla.sweepNow()`). */
  reviewSweepIntervalMs?: number;
}

/**
 * The demo's reviewers. Tenant acme: two reviewers, a supervisor (every queue of the tenant, sees
 * personal data), an auditor (reads, never decides) and an admin (agents' kill switches); tenant
 * globex: one reviewer.
 */
export const DEMO_REVIEWERS: readonly Reviewer[] = [
  {
    id: 'rev-ana',
    tenantId: 'acme',
    teams: ['general', 'deal-desk', 'service'],
    skills: ['pricing'],
    roles: ['reviewer'],
    active: true,
  },
  {
    id: 'rev-ben',
    tenantId: 'acme',
    teams: ['general', 'deal-desk'],
    skills: ['pricing'],
    roles: ['reviewer'],
    active: true,
  },
  {
    id: 'sup-cleo',
    tenantId: 'acme',
    teams: ['supervisors'],
    skills: [],
    roles: ['supervisor'],
    active: true,
  },
  { id: 'aud-dan', tenantId: 'acme', teams: [], skills: [], roles: ['auditor'], active: true },
  // Administers acme's agents (the console's kill switch); reviews nothing.
  { id: 'adm-eve', tenantId: 'acme', teams: [], skills: [], roles: ['admin'], active: true },
  {
    id: 'rev-gus',
    tenantId: 'globex',
    teams: ['general', 'deal-desk', 'service'],
    skills: ['pricing'],
    roles: ['reviewer'],
    active: true,
  },
];

/** Who answers for each demo agent: four-eyes never counts an agent's owner as an approver. */
export const DEMO_AGENT_OWNERS: readonly AgentOwner[] = [
  { tenantId: 'acme', agentId: 'deal-desk', ownerId: 'sup-cleo' },
];

/** Discounts to the deal desk (pricing skill), case replies to service, the rest to general. */
export const DEMO_REVIEW_CONFIG: ReviewConfigInput = {
  routing: {
    rules: [
      { actionType: 'apply_discount', team: 'deal-desk', skill: 'pricing' },
      { actionType: ['reply_to_case', 'close_case'], team: 'service' },
    ],
    defaultTeam: 'general',
  },
};

/** The demo company's settings: London, a 20 % discount ceiling, default plan budgets. */
export const DEMO_TENANT_SETTINGS: TenantSettings = {
  timeZone: 'Europe/London',
  rules: { maxDiscountPercent: 20 },
};

export interface EmbeddedMandate {
  app: INestApplication;
  runtime: EmbeddedRuntime;
  httpPort: number;
  grpcPort: number;
  /** C2SP verifier key of the ledger's checkpoints (an auditor's `--key`). */
  ledgerVerifierKey: string;
  crm: EmbeddedCrm;
  ledger: LedgerReader;
  trust: TrustRepository;
  /** Signs decisions as the in-process policy service does (tests drive connectors with it). */
  decisionIssuer: DecisionTokenIssuer;
  /**
   * DEVELOPMENT ONLY: the local OIDC issuer the review API trusts here (next to the operator
   * tokens). `POST /v1/dev/login {sub}` signs a token for a configured reviewer with it; tests
   * may also mint tokens directly.
   */
  issuer: LocalOidcIssuer;
  /** The review service's SLA sweeper (`sweepNow()` in tests). */
  reviewSla: SlaSweeperHost;
  close(): Promise<void>;
}

/**
 * All five services in one process: the same service modules the apps run, on an in-process bus
 * with Kafka's semantics and in-memory storage. Tokens are signed with a key made at start-up.
 */
export async function startEmbedded(o: EmbeddedOptions): Promise<EmbeddedMandate> {
  installTracing();
  const runtime = new EmbeddedRuntime(
    o.logger,
    o.dataDir ? { dataDir: o.dataDir, persistentCollections: [CRM_RECORDS.name] } : {},
  );
  const keys = generateSigningKeyPair();
  const keyId = 'embedded-1';
  const issuer = new DecisionTokenIssuer(
    { keyId, privateKey: parsePrivateKey(keys.privateKey) },
    5 * 60_000,
  );
  const verifier = new DecisionTokenVerifier(new Map([[keyId, parsePublicKey(keys.publicKey)]]));
  const relayIntervalMs = 200;
  const authenticator = new ApiTokenAuthenticator(o.apiTokens ?? []);
  // Reviewers sign in with tokens of a local issuer (dev login); operators keep their tokens.
  const oidcIssuer = new LocalOidcIssuer({ issuer: 'http://127.0.0.1/mandate-embedded' });
  const reviewers = new StaticReviewerDirectory(o.reviewers ?? DEMO_REVIEWERS);
  const deciderRef: { current?: PolicyDecider } = {};
  const ledgerRef: { current?: LedgerReader } = {};
  const oversightRef: { current?: PolicyOversightApi } = {};
  // Checkpoint key and data-subject KEK made at start-up: the embedded log lives in memory too.
  const ledgerKeys = generateKeyPairSync('ed25519');
  // Policy reads facts from the CRM; here the CRM is the embedded one, in this process.
  const crmRef: { current?: EmbeddedCrm } = {};
  const reader = {
    read: async (tenant: string, objectType: string, recordId: string) => {
      if (!crmRef.current) throw new Error('the embedded CRM is not started yet');
      const record = await crmRef.current.get(tenantId(tenant), recordId);
      return record && record.objectType === objectType ? record.fields : undefined;
    },
  };
  let grpcListening: (address: string) => void = () => undefined;
  const grpcAddress = new Promise<string>((resolve) => (grpcListening = resolve));
  const contextSource = new ConnectorContextSource({ address: grpcAddress });
  // The review console reads the task's record through the connector's gRPC API too.
  const recordReader = new ConnectorRecordReader({ address: grpcAddress });
  const modules = [
    await ConnectorsServiceModule.create({
      context: runtime.context('crm-connectors'),
      stores: runtime.stores,
      verifier,
      // Operators' tokens everywhere; the dev sign-in's (which carry a tenant) on the CRM routes
      // only (its admin, adm-eve, may use them), never on the executions API (compensation).
      authenticator,
      people: oidcIssuer.authenticator(),
      connectors: o.connectors,
      factories: o.connectorFactories,
      relayIntervalMs,
    }),
    await OrchestratorServiceModule.create({
      context: runtime.context('orchestrator'),
      stores: runtime.stores,
      // The agents read the CRM the way the distributed orchestrator does: through the
      // connector's gRPC API (here this process's own port, known once it listens).
      source: contextSource,
      modelFor: o.modelFor,
      promptsDir: o.promptsDir ?? defaultPromptsDir(),
      settings: (tenant) => o.tenantSettings?.(tenant) ?? DEMO_TENANT_SETTINGS,
      authenticator,
      relayIntervalMs,
    }),
    await PolicyServiceModule.create({
      context: runtime.context('policy'),
      stores: runtime.stores,
      issuer,
      reader,
      seedBundleDir: o.bundleDir ?? defaultBundleDir(),
      authenticator,
      relayIntervalMs,
    }),
    await ReviewServiceModule.create({
      context: runtime.context('human-review'),
      stores: runtime.stores,
      authenticator: firstOf(authenticator, oidcIssuer.authenticator()),
      // Policy's re-check in process (the decider exists once the app is created).
      recheck: {
        recheck: (decision, reviews) => {
          if (!deciderRef.current) throw new Error('the policy decider is not started yet');
          return deciderRef.current.recheck(decision, reviews);
        },
      },
      reviewers,
      owners: new StaticAgentOwners(DEMO_AGENT_OWNERS),
      // The console's agents view and kill switch: this process's policy, in-process.
      oversight: inProcessOversight(() => oversightRef.current, {
        unavailable: (message) => new PolicyUnavailableError(message),
      }),
      records: recordReader,
      config: o.reviewConfig ?? DEMO_REVIEW_CONFIG,
      sweepIntervalMs: o.reviewSweepIntervalMs ?? 5_000,
      devLogin: { issuer: oidcIssuer, reviewers },
      // The console's audit trail and ledger view read this process's ledger directly.
      ledger: {
        causalChain: async (tenant, key) => {
          if (!ledgerRef.current) throw new Error('the ledger is not started yet');
          return GetCausalChainResponse.fromPartial(
            await ledgerRef.current.causalChain(
              tenant,
              'correlationId' in key ? key : { subjectKey: `${key.objectType}/${key.recordId}` },
            ),
          );
        },
        byCorrelation: async (tenant, correlationId) => {
          if (!ledgerRef.current) throw new Error('the ledger is not started yet');
          return ledgerRef.current.byCorrelation(tenant, correlationId);
        },
      },
      ledgerVerifierKeys: [verifierKeyFor(LEDGER_ORIGIN, ledgerKeys.publicKey)],
      ledgerOrigin: LEDGER_ORIGIN,
      relayIntervalMs,
    }),
    await LedgerServiceModule.create({
      context: runtime.context('audit-ledger'),
      stores: runtime.stores,
      origin: LEDGER_ORIGIN,
      signer: new NoteSigner(LEDGER_ORIGIN, ledgerKeys.privateKey),
      keks: [{ id: 'embedded-kek-1', key: randomBytes(32) }],
      authenticator,
      relayIntervalMs,
    }),
  ];
  await runtime.bus.start();
  const app = await createNestApp(
    modules,
    {
      metrics: runtime.contexts.map((c) => c.metrics),
      readiness: runtime.contexts.map((c) => c.readiness),
    },
    o.logger,
  );
  const crm = app.get(EmbeddedCrm);
  crmRef.current = crm;
  deciderRef.current = app.get(PolicyDecider);
  ledgerRef.current = app.get(LedgerReader);
  oversightRef.current = app.get(PolicyOversightApi);
  if (o.seedDemoData ?? true)
    await crm.importRecords(
      DEMO_TENANT,
      DEMO_DATASET.map((r) => ({ objectType: r.objectType, id: r.id, fields: { ...r.fields } })),
    );
  const host = o.host ?? '127.0.0.1';
  await app.listen(o.httpPort ?? 8080, host);
  const address = app.getHttpServer().address();
  const httpPort = typeof address === 'object' && address ? address.port : (o.httpPort ?? 8080);

  const grpc = new GrpcServerHost(o.logger, runtime.contexts[0].metrics);
  registerPolicyGrpc(grpc, app);
  registerLedgerGrpc(grpc, app.get(LedgerReader));
  registerReviewGrpc(grpc, app.get(REVIEW_TASK_STORE));
  registerConnectorGrpc(grpc, app.get(ConnectorRegistry));
  const grpcPort = await grpc.start(host, o.grpcPort ?? 50050);
  grpcListening(`${host === '0.0.0.0' ? '127.0.0.1' : host}:${grpcPort}`);

  return {
    app,
    runtime,
    httpPort,
    grpcPort,
    ledgerVerifierKey: verifierKeyFor(LEDGER_ORIGIN, ledgerKeys.publicKey),
    crm: app.get(EmbeddedCrm),
    ledger: app.get(LedgerReader),
    trust: app.get(TrustRepository),
    decisionIssuer: issuer,
    issuer: oidcIssuer,
    reviewSla: app.get(SlaSweeperHost),
    close: async () => {
      await app.close();
      contextSource.close();
      recordReader.close();
      await grpc.stop();
      await runtime.bus.stop();
    },
  };
}

export const DEMO_TENANT: TenantId = tenantId('acme');
export const LEDGER_ORIGIN = 'mandate-embedded/ledger';

/** Plan states that end an agent's run (the orchestrator audits them with `planStatus`). */
const PLAN_END = new Set(['completed', 'handed-off', 'failed', 'denied', 'expired']);

/** True once a chain has reached a step the demo waits for: a plan's end, a review task, a refusal. */
export function chainEnded(chain: readonly AuditEntry[]): boolean {
  return chain.some(
    (e) =>
      e.record &&
      (e.record.kind === AuditKind.AUDIT_KIND_REVIEW_TASK ||
        e.record.kind === AuditKind.AUDIT_KIND_TOKEN_REFUSED ||
        (e.record.kind === AuditKind.AUDIT_KIND_OUTCOME &&
          PLAN_END.has(e.record.attributes['planStatus'] ?? ''))),
  );
}

export const DEMO_AGENT = 'lead-qualification';
export const DEMO_TRACK_RECORD = 40;

/**
 * Gives an agent of the demo tenant a clean track record for one action type (40 approved
 * reviews, each followed by a successful execution), published on the trust-evidence topic like
 * real outcomes, and waits until policy has applied it. A brand-new agent is untrusted and every
 * action would wait for a human; this is the history that earns it autonomy for that action only.
 */
export async function seedTrackRecord(
  m: EmbeddedMandate,
  agentId: string,
  actionType: string,
  timeoutMs = 10_000,
): Promise<void> {
  const events = cleanTrackRecord({
    tenantId: DEMO_TENANT,
    agentId,
    actionType,
    count: DEMO_TRACK_RECORD,
    until: new Date(),
    idPrefix: `track-record-${agentId}-${actionType}`,
  });
  for (const e of events)
    await m.runtime.bus.publish(Topics.trustEvidence, e, {
      tenantId: e.tenantId,
      correlationId: e.correlationId,
      source: 'demo',
      id: `trust/${e.eventId}`,
    });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await m.trust.get(DEMO_TENANT, agentId, actionType, new Date());
    if (t.evidence.execution_success >= DEMO_TRACK_RECORD) return;
    if (Date.now() > deadline)
      throw new Error(
        `track record of ${agentId}/${actionType} not applied within ${timeoutMs} ms`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The demo's lead agent earns autonomy for qualifying leads (`seedTrackRecord`). */
export function seedDemoTrust(m: EmbeddedMandate, timeoutMs = 10_000): Promise<void> {
  return seedTrackRecord(m, DEMO_AGENT, 'qualify_lead', timeoutMs);
}

/** One thing that happens in the demo company's CRM, and the agent it starts. */
export interface DemoStep {
  /** Key of the chain in `runDemo`'s result, and the correlation id (`demo-<key>`). */
  readonly key: string;
  readonly agent: string;
  readonly description: string;
  readonly run: (m: EmbeddedMandate, correlationId: string, stamp: string) => Promise<void>;
}

/** A new activity (an email that arrives, a meeting logged) with a per-run id. */
function demoActivity(
  agent: string,
  description: string,
  suffix: string,
  fields: Record<string, string>,
): DemoStep {
  return {
    key: agent,
    agent,
    description,
    run: async (m, correlationId, stamp) => {
      await m.crm.create(
        DEMO_TENANT,
        'activity',
        `act-demo-${stamp}-${suffix}`,
        { ...fields, occurredAt: new Date().toISOString() },
        correlationId,
      );
    },
  };
}

/** A small deal (under 10 000) on which the customer asks for 18 % off. */
export const DEMO_DISCOUNT_OPPORTUNITY = 'opp-demo-0001';

/**
 * The demo: all four agents on the demo company's data, with the offline rules (not an LLM).
 * Each step is a change a user or a customer would make; re-running on a persisted CRM makes the
 * same kind of change again (a lead set back to New, a new email, a new note, a new meeting).
 */
export const DEMO_STEPS: readonly DemoStep[] = [
  ...DEMO_LEADS.map((lead): DemoStep => ({
    key: lead.id,
    agent: 'lead-qualification',
    description: `inbound lead ${lead.id} arrives`,
    // Created if the CRM does not have it; otherwise (the dataset has it, or the CRM persisted
    // it from an earlier run) a user resets it to New, which starts the agent the same way.
    run: async (m, correlationId) => {
      if (await m.crm.get(DEMO_TENANT, lead.id))
        await m.crm.update(DEMO_TENANT, 'lead', lead.id, { ...lead.fields }, correlationId);
      else await m.crm.create(DEMO_TENANT, 'lead', lead.id, lead.fields, correlationId);
    },
  })),
  {
    key: 'deal-desk',
    agent: 'deal-desk',
    description: `a customer asks for 18 % off a small deal (${DEMO_DISCOUNT_OPPORTUNITY}); policy allows 10 % on deals under 10 000`,
    run: async (m, correlationId, stamp) => {
      const notes = `Call ${stamp}: the customer asks for 18% off in exchange for a three-year commitment.`;
      if (await m.crm.get(DEMO_TENANT, DEMO_DISCOUNT_OPPORTUNITY))
        await m.crm.update(
          DEMO_TENANT,
          'opportunity',
          DEMO_DISCOUNT_OPPORTUNITY,
          { notes },
          correlationId,
        );
      else
        await m.crm.create(
          DEMO_TENANT,
          'opportunity',
          DEMO_DISCOUNT_OPPORTUNITY,
          {
            name: 'Helios Capital Partners — analytics add-on',
            accountId: 'acc-0001',
            stage: 'Negotiation',
            amountMinor: 800_000,
            currencyCode: 'EUR',
            discountPercent: 0,
            closeDate: '2026-12-31',
            notes,
          },
          correlationId,
        );
    },
  },
  demoActivity('service-triage', 'a customer emails about a wrong invoice on case-0006', 'triage', {
    kind: 'inbound_email',
    relatedType: 'case',
    relatedId: 'case-0006',
    subject: 'Re: Invoice shows the wrong seat count',
    body: 'Hello, the invoice still shows 120 seats but we have 80. This blocks our payment run this week. Please correct it.',
  }),
  demoActivity('outreach', 'an account executive logs a meeting with con-0010', 'meeting', {
    kind: 'meeting',
    relatedType: 'contact',
    relatedId: 'con-0010',
    subject: 'Renewal planning',
    body: 'Walked through the renewal timeline and the analytics add-on.',
  }),
];

/**
 * Runs the demo steps and waits until each one's chain in the ledger has reached its end (the
 * plan ended, a review task for a human, or a refusal). Returns each step's chain in log order.
 */
export async function runDemo(
  m: EmbeddedMandate,
  timeoutMs = 20_000,
): Promise<Map<string, AuditEntry[]>> {
  await seedDemoTrust(m);
  const chains = new Map<string, AuditEntry[]>();
  const stamp = Date.now().toString(36);
  for (const step of DEMO_STEPS) {
    const correlationId = `demo-${step.key}`;
    if (chainEnded(await m.ledger.byCorrelation(DEMO_TENANT, correlationId))) continue; // ran already
    await step.run(m, correlationId, stamp);
  }
  const deadline = Date.now() + timeoutMs;
  for (const step of DEMO_STEPS) {
    const correlationId = `demo-${step.key}`;
    for (;;) {
      const chain = await m.ledger.byCorrelation(DEMO_TENANT, correlationId);
      if (chainEnded(chain)) {
        chains.set(step.key, chain);
        break;
      }
      if (Date.now() > deadline)
        throw new Error(
          `demo step ${step.key} (${step.agent}) did not complete within ${timeoutMs} ms (chain so far: ${chain.length} steps)`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return chains;
}

/** One line per ledger entry: index, service, step, summary. */
export function formatChain(chain: AuditEntry[]): string[] {
  return chain.map((e) => {
    const r = e.record!;
    const kind = AuditKind[r.kind].replace('AUDIT_KIND_', '').toLowerCase().replace(/_/g, '-');
    return `  #${e.leafIndex.padStart(3, ' ')}  ${r.actor.padEnd(32)} ${kind.padEnd(16)} ${r.summary}`;
  });
}
