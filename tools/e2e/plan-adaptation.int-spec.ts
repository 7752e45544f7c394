import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  ActionProposal,
  AuditEntry,
  AuditKind,
  ExecutionOutcome,
  LedgerServiceClient,
  ListByCorrelationResponse,
  PolicyDecision,
  Verdict,
} from '@mandate/contracts';
import { generateSigningKeyPair } from '@mandate/decision-token';
import { Topics } from '@mandate/messaging';
import { KafkaEventBus, kafkaGroupId } from '@mandate/messaging-kafka';
import {
  leafHash,
  verifierKeyFor,
  verifyCheckpoint,
  verifyInclusion,
} from '@mandate/ledger-domain';
import { generateApiToken, LocalOidcIssuer } from '@mandate/platform';
import { cleanTrackRecord } from '@mandate/policy-domain';
import { Kafka, logLevel, type Consumer, type IHeaders, type Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import {
  ServiceProcess,
  startService,
  stopService,
  tail,
  truncateTopics,
  waitReady,
  waitUntil,
} from './service-processes';

/**
 * Plan adaptation over the real stack (npm run stack:up; `npm run test:integration` builds
 * first): five separately started service processes on Apache Kafka and FerretDB, with the
 * offline deal-desk rules as the model. A small deal asks for 18 % off; policy caps small deals
 * at 10 %, so the plan is denied twice (18 %, 15 %), adapts each time with the denial as
 * feedback, and finishes through the permitted path: 10 %, approved by a human, executed once.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const MONGO_URL = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const RUN = randomBytes(4).toString('hex');
const TENANT = `ad-${RUN}`;
const CORR = `corr-${RUN}-deal`;
const OPPORTUNITY = 'opp-adapt-1';
const REVIEWER = 'reviewer-e2e-1';
const BASE = 20000 + Math.floor(Math.random() * 2000) * 10;
const keys = generateSigningKeyPair();
const admin = { id: 'admin-1', roles: ['policy-admin'], ...generateApiToken() };
/** human-review's credential for policy's oversight rpcs; policy holds its sha256 only. */
const control = generateApiToken();
/** A user of the test tenant's embedded CRM (its HTTP routes need a token bound to the tenant). */
const crmUser = { id: 'crm-user', roles: ['crm-user'], ...generateApiToken() };
const ledgerKey = generateKeyPairSync('ed25519');
const ledgerEnv = {
  LEDGER_SIGNING_KEY: ledgerKey.privateKey
    .export({ format: 'der', type: 'pkcs8' })
    .toString('base64'),
  LEDGER_SUBJECT_KEKS: `kek-1:${randomBytes(32).toString('base64')}`,
};
/** The ledger's public key as auditors (and the review console) pin it; default origin. */
const LEDGER_VERIFIER_KEY = verifierKeyFor('mandate/ledger', ledgerKey.publicKey);
/** The organisation's identity provider, as far as human-review can tell: OIDC with a JWKS. */
const idp = new LocalOidcIssuer({
  issuer: `https://idp.example/${RUN}`,
  audience: 'mandate-review',
});

const SERVICES = [
  'orchestrator',
  'policy',
  'human-review',
  'audit-ledger',
  'crm-connectors',
] as const;
type Service = (typeof SERVICES)[number];
const port = (s: Service, grpc = false) => BASE + (grpc ? 11 : 1) + SERVICES.indexOf(s);
const database = (s: Service) => `it_${RUN}_${s.replace('-', '_')}`;

function envFor(s: Service): Record<string, string> {
  return {
    KAFKA_BROKERS: BROKERS,
    MONGO_URL,
    MONGO_DATABASE: database(s),
    DECISION_SIGNING_KEY: keys.privateKey,
    DECISION_SIGNING_KEY_ID: 'it-1',
    DECISION_VERIFY_KEYS: `it-1=${keys.publicKey}`,
    ...(s === 'audit-ledger' ? ledgerEnv : {}),
    ...(s === 'orchestrator' || s === 'policy'
      ? { CONNECTOR_GRPC_ADDRESS: `127.0.0.1:${port('crm-connectors', true)}` }
      : {}),
    ...(s === 'policy'
      ? {
          MANDATE_API_TOKENS: JSON.stringify([
            { id: admin.id, roles: admin.roles, sha256: admin.sha256 },
          ]),
          POLICY_CONTROL_TOKENS: control.sha256,
        }
      : {}),
    ...(s === 'human-review'
      ? {
          POLICY_GRPC_ADDRESS: `127.0.0.1:${port('policy', true)}`,
          POLICY_CONTROL_TOKEN: control.token,
          CONNECTOR_GRPC_ADDRESS: `127.0.0.1:${port('crm-connectors', true)}`,
          LEDGER_GRPC_ADDRESS: `127.0.0.1:${port('audit-ledger', true)}`,
          LEDGER_VERIFIER_KEYS: LEDGER_VERIFIER_KEY,
          OIDC_ISSUER: idp.issuer,
          OIDC_AUDIENCE: idp.audience,
          OIDC_JWKS: JSON.stringify(idp.jwks()),
          REVIEWERS: JSON.stringify([
            {
              id: REVIEWER,
              tenantId: TENANT,
              teams: ['general', 'deal-desk'],
              skills: ['pricing'],
              roles: ['reviewer'],
            },
          ]),
          AGENT_OWNERS: JSON.stringify([
            { tenantId: TENANT, agentId: 'deal-desk', ownerId: 'owner-e2e' },
          ]),
        }
      : {}),
    ...(s === 'crm-connectors'
      ? {
          MANDATE_API_TOKENS: JSON.stringify([
            { id: crmUser.id, roles: crmUser.roles, tenantId: TENANT, sha256: crmUser.sha256 },
          ]),
        }
      : {}),
  };
}

const running = new Map<Service, ServiceProcess>();

let ledger: LedgerServiceClient;
function chain(correlationId: string): Promise<AuditEntry[]> {
  return new Promise((resolve, reject) =>
    ledger.listByCorrelation(
      { tenantId: TENANT, correlationId },
      (err: Error | null, res?: ListByCorrelationResponse) =>
        err ? reject(err) : resolve(res?.entries ?? []),
    ),
  );
}
const kindOf = (e: AuditEntry) => AuditKind[e.record!.kind].replace('AUDIT_KIND_', '');

/** The discount a proposal (or the step of a plan) asks for. */
function discountOf(p: ActionProposal | undefined): number | undefined {
  const kind = p?.action?.kind;
  return kind?.$case === 'applyDiscount' ? kind.value.discountPercent : undefined;
}

/** One line per ledger record of the chain, e.g. `PROPOSAL 18%`, `DECISION DENY`. */
function label(e: AuditEntry): string {
  const r = e.record!;
  switch (kindOf(e)) {
    case 'PROPOSAL':
      return `PROPOSAL ${discountOf(ActionProposal.decode(r.payload))}%`;
    case 'DECISION':
      return `DECISION ${(r.attributes['verdict'] ?? '').replace('VERDICT_', '')}`;
    case 'EXECUTION':
      return `EXECUTION ${(r.attributes['status'] ?? '').replace('EXECUTION_STATUS_', '')}`;
    case 'OUTCOME':
      return `OUTCOME ${r.attributes['planStatus'] ?? ''}`;
    default:
      return kindOf(e);
  }
}

async function createRecord(
  objectType: string,
  id: string,
  fields: Record<string, unknown>,
  correlationId?: string,
) {
  const res = await fetch(
    `http://127.0.0.1:${port('crm-connectors')}/v1/tenants/${TENANT}/crm/${objectType}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${crmUser.token}` },
      body: JSON.stringify({ id, fields, correlationId }),
    },
  );
  expect(res.status).toBe(201);
}
async function getOpportunity(id: string) {
  const res = await fetch(
    `http://127.0.0.1:${port('crm-connectors')}/v1/tenants/${TENANT}/crm/opportunity/${id}`,
    { headers: { authorization: `Bearer ${crmUser.token}` } },
  );
  expect(res.status).toBe(200);
  return (await res.json()) as { fields: Record<string, unknown>; appliedActions: string[] };
}

/**
 * The deal-desk agent's track record for discounts in this run's tenant, published on the
 * trust-evidence topic like real review and execution outcomes; resolves once policy applied it.
 * A new (untrusted) agent gets APPROVE_2 from the matrix for any discount on this deal (high
 * risk × untrusted); with a record the matrix would let it run, and the agent's ceiling
 * (APPROVE_1) is what puts a human in the loop.
 */
async function seedDealDeskTrust(bus: KafkaEventBus): Promise<void> {
  for (const e of cleanTrackRecord({
    tenantId: TENANT,
    agentId: 'deal-desk',
    actionType: 'apply_discount',
    count: 40,
    until: new Date(),
  }))
    await bus.publish(Topics.trustEvidence, e, {
      tenantId: TENANT,
      correlationId: e.correlationId,
      source: 'it-seed',
      id: `trust/${e.eventId}`,
    });
  await waitUntil('the track record to be applied', async () => {
    const res = await fetch(
      `http://127.0.0.1:${port('policy')}/v1/tenants/${TENANT}/policy/trust/deal-desk/apply_discount`,
      { headers: { authorization: `Bearer ${admin.token}` } },
    );
    const body =
      res.status === 200
        ? ((await res.json()) as { evidence?: { execution_success?: number } })
        : undefined;
    return (body?.evidence?.execution_success ?? 0) >= 40 ? true : undefined;
  });
}

/** A policy decision as it travelled on the decisions topic: the exact bytes, and decoded. */
interface SeenDecision {
  key: Buffer | null;
  value: Buffer;
  headers: IHeaders;
  decision: PolicyDecision;
}

interface StoredStep {
  index: number;
  proposalId: string;
  idempotencyKey: string;
  tool: string;
  args: Record<string, unknown>;
  status: string;
  reasons: string[];
  adaptedFrom?: number;
}
interface StoredPlan {
  _id: string;
  agentId: string;
  correlationId: string;
  status: string;
  steps: StoredStep[];
  usage: { adaptations: number; modelCalls: number };
  version: number;
}

describe('plan adaptation on Apache Kafka and FerretDB', () => {
  const kafka = new Kafka({
    clientId: `it-adapt-${RUN}`,
    brokers: BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  let decisionsConsumer: Consumer | undefined;
  let producer: Producer | undefined;
  let bus: KafkaEventBus | undefined;
  let mongo: MongoClient | undefined;
  const decisions: SeenDecision[] = [];
  const started = Date.now();

  const plans = () => mongo!.db(database('orchestrator')).collection<StoredPlan>('agent_plans');
  const planOf = async () => {
    const found = await plans()
      .find({ _tid: TENANT } as object)
      .toArray();
    expect(found).toHaveLength(1); // one CRM change, one agent: one plan
    return found[0];
  };
  const logs = () =>
    [...running.values()]
      .map((p) => `--- ${p.name} (${p.logFile})\n${tail(p.logFile, 15)}`)
      .join('\n');
  /** Waits, and on a timeout says what the chain and the services looked like. */
  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined>, ms = 90_000) => {
    try {
      return await waitUntil(what, fn, ms);
    } catch (err) {
      const seen = await chain(CORR).then((c) => c.map(label).join(' → '), String);
      throw new Error(`${String(err)}\nchain: ${seen}\n${logs()}`);
    }
  };

  beforeAll(async () => {
    const topics = spawnSync(
      process.execPath,
      ['tools/run.js', 'apps/mandate/src/main.js', 'topics', 'apply', '--brokers', BROKERS],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (topics.status !== 0)
      throw new Error(`topics apply failed: ${topics.stderr}${topics.stdout}`);

    // Every decision of this tenant as it went over the wire (read from the topic's start, so
    // nothing published before the group joined is missed; other tenants are skipped).
    decisionsConsumer = kafka.consumer({ groupId: `it-adapt-decisions-${RUN}` });
    await decisionsConsumer.connect();
    await decisionsConsumer.subscribe({ topic: Topics.policyDecisions.name, fromBeginning: true });
    await decisionsConsumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        let decision: PolicyDecision;
        try {
          decision = PolicyDecision.decode(message.value);
        } catch {
          return; // a malformed message another suite sent on purpose
        }
        if (decision.tenantId === TENANT)
          decisions.push({
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
            decision,
          });
      },
    });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    bus = new KafkaEventBus({ brokers: BROKERS.split(','), clientId: `it-adapt-bus-${RUN}` });
    await bus.start();
    mongo = new MongoClient(MONGO_URL);
    await mongo.connect();

    for (const s of SERVICES)
      running.set(s, startService(s, port(s), port(s, true), envFor(s), RUN));
    await Promise.all([...running.values()].map((p) => waitReady(p)));
    ledger = new LedgerServiceClient(
      `127.0.0.1:${port('audit-ledger', true)}`,
      credentials.createInsecure(),
    );
    await seedDealDeskTrust(bus);
  });

  afterAll(async () => {
    ledger?.close();
    if (decisionsConsumer) {
      await decisionsConsumer.disconnect();
      const kafkaAdmin = kafka.admin();
      await kafkaAdmin.connect();
      await kafkaAdmin.deleteGroups([`it-adapt-decisions-${RUN}`]).catch(() => undefined);
      await kafkaAdmin.disconnect();
    }
    await producer?.disconnect();
    await bus?.stop();
    await Promise.all([...running.values()].map(stopService));
    if (mongo) {
      for (const s of SERVICES) await mongo.db(database(s)).dropDatabase();
      await mongo.close();
    }
    // Like the other e2e suites: what this run published is not replayed by the next one.
    await truncateTopics(BROKERS.split(','), [
      Topics.crmChanges.name,
      Topics.actionsProposed.name,
      Topics.policyDecisions.name,
      Topics.reviewTasks.name,
      Topics.reviewDecisions.name,
      Topics.executionOutcomes.name,
      Topics.auditRecords.name,
      Topics.audit.name,
      Topics.planHandOffs.name,
    ]);
    process.stdout.write(`plan adaptation e2e: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  it('adapts a denied discount step twice and finishes through a human-approved 10 %, executed once', async () => {
    // 1. A small deal (8 000 EUR) whose notes ask for 18 % off: its CREATED change starts deal-desk.
    await createRecord('account', 'acct-adapt-1', {
      name: 'Nordlicht Logistik GmbH',
      industry: 'logistics',
      customerTier: 'smb',
      country: 'DE',
      employees: 400,
      status: 'Customer',
    });
    await createRecord(
      'opportunity',
      OPPORTUNITY,
      {
        name: 'Nordlicht fleet renewal',
        accountId: 'acct-adapt-1',
        stage: 'Negotiation',
        amountMinor: 800_000,
        currencyCode: 'EUR',
        industry: 'logistics',
        customerTier: 'smb',
        notes: 'The customer asks for 18% off in exchange for a three-year commitment.',
      },
      CORR,
    );

    // 2. 18 % DENY → 15 % DENY → 10 % APPROVE_1 (the agent's ceiling) → a review task.
    await waitFor('the review task for the permitted step', async () => {
      const c = await chain(CORR);
      return c.some((e) => kindOf(e) === 'REVIEW_TASK') ? c : undefined;
    });
    const approve1 = await waitFor('the APPROVE_1 decision on the topic', async () =>
      decisions.find((d) => d.decision.verdict === Verdict.VERDICT_APPROVE_1),
    );
    expect(discountOf(approve1.decision.proposal)).toBe(10);
    expect(approve1.decision.token).toBeUndefined();
    // Medium risk × high trust is AUTO_WITH_NOTICE in the matrix: the agent's ceiling caps it.
    expect(approve1.decision.explanation).toMatchObject({ riskBand: 'medium', trustBand: 'high' });
    expect(approve1.decision.explanation?.reasonCodes).toContain('CEILING_APPLIED');

    // 3. The human approval, through human-review's API with the reviewer's OIDC token: the
    // service re-checks with policy over gRPC and publishes the released decision.
    const reviewerToken = idp.issue({ sub: REVIEWER, roles: ['reviewer'], tenant: TENANT });
    const review = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port('human-review')}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${reviewerToken}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return { status: res.status, body: (await res.json()) as any };
    };
    const task = await waitFor('the review task in human-review', async () => {
      const r = await review('GET', `/v1/tenants/${TENANT}/review/tasks`);
      expect(r.status).toBe(200);
      return (r.body.items as { taskId: string; actionType: string }[]).find(
        (t) => t.actionType === 'apply_discount',
      );
    });
    // A token of another issuer (or none) gets nothing.
    const stranger = new LocalOidcIssuer({ issuer: idp.issuer, audience: idp.audience });
    const forged = await fetch(
      `http://127.0.0.1:${port('human-review')}/v1/tenants/${TENANT}/review/tasks`,
      {
        headers: {
          authorization: `Bearer ${stranger.issue({ sub: REVIEWER, roles: ['reviewer'], tenant: TENANT })}`,
        },
      },
    );
    expect(forged.status).toBe(401);
    const detail = await review('GET', `/v1/tenants/${TENANT}/review/tasks/${task.taskId}`);
    expect(detail.body.proposal.action.fields.discountPercent).toBe(10);
    expect(detail.body.record.fields.discountPercent).toBeUndefined(); // no discount yet
    const approved = await review(
      'POST',
      `/v1/tenants/${TENANT}/review/tasks/${task.taskId}/decision`,
      { outcome: 'APPROVE', reasonCode: 'POLICY_OK' },
    );
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'APPROVED',
      effect: 'approved',
      approvedBy: [REVIEWER],
      recheckVerdict: 'APPROVE_1',
    });

    // 4. The connector executes the 10 % discount and the plan completes.
    const entries = await waitFor('the plan to complete', async () => {
      const c = await chain(CORR);
      return c.some(
        (e) => kindOf(e) === 'OUTCOME' && e.record!.attributes['planStatus'] === 'completed',
      )
        ? c
        : undefined;
    });
    process.stdout.write(
      `chain ${CORR}:\n${entries.map((e) => `  ${label(e)}: ${e.record!.summary}`).join('\n')}\n`,
    );

    const opportunity = await getOpportunity(OPPORTUNITY);
    expect(opportunity.fields['discountPercent']).toBe(10);
    expect(opportunity.appliedActions).toEqual([approve1.decision.proposal!.idempotencyKey]);

    // The chain, in ledger order (the outcomes the plan records on the way included).
    const route = entries
      .map(label)
      .filter((d) => /^(PROPOSAL|DECISION|REVIEW_TASK|REVIEW_DECISION|EXECUTION|OUTCOME)/.test(d));
    expect(route).toEqual([
      'PROPOSAL 18%',
      'DECISION DENY',
      'OUTCOME active', // step 1 denied: the plan adapts
      'PROPOSAL 15%',
      'DECISION DENY',
      'OUTCOME active', // step 2 denied: the plan adapts again
      'PROPOSAL 10%',
      'DECISION APPROVE_1',
      'REVIEW_TASK',
      'REVIEW_DECISION',
      'EXECUTION EXECUTED',
      'OUTCOME active', // step 3 executed
      'OUTCOME completed',
    ]);
    const proposals = entries
      .filter((e) => kindOf(e) === 'PROPOSAL')
      .map((e) => ActionProposal.decode(e.record!.payload));
    expect(entries.filter((e) => kindOf(e) === 'PROPOSAL').map((e) => e.record!.summary)).toEqual([
      expect.not.stringContaining('adapting'),
      expect.stringContaining('adapting step 1'),
      expect.stringContaining('adapting step 2'),
    ]);
    const denials = entries.filter(
      (e) => kindOf(e) === 'DECISION' && e.record!.attributes['verdict'] === 'VERDICT_DENY',
    );
    for (const d of denials)
      expect(PolicyDecision.decode(d.record!.payload).explanation?.reasonCodes).toContain(
        'DISCOUNT_OVER_CEILING',
      );
    // Exactly one execution, of the 10 % proposal; the denied ones never executed.
    const executions = entries
      .filter((e) => kindOf(e) === 'EXECUTION')
      .map((e) => ExecutionOutcome.decode(e.record!.payload));
    expect(executions.map((x) => x.proposalId)).toEqual([proposals[2].proposalId]);
    expect(
      opportunity.appliedActions.filter((k) =>
        [proposals[0].idempotencyKey, proposals[1].idempotencyKey].includes(k),
      ),
    ).toEqual([]);

    // The plan document in the orchestrator's database.
    const plan = await planOf();
    expect(plan.agentId).toBe('deal-desk');
    expect(plan.correlationId).toBe(CORR);
    expect(plan.status).toBe('completed');
    expect(plan.usage.adaptations).toBe(2);
    expect(
      plan.steps.map((s) => [s.tool, s.args['discount_percent'], s.status, s.adaptedFrom]),
    ).toEqual([
      ['apply_discount', 18, 'denied', undefined],
      ['apply_discount', 15, 'denied', 0],
      ['apply_discount', 10, 'executed', 1],
    ]);
    expect(plan.steps.map((s) => s.proposalId)).toEqual(proposals.map((p) => p.proposalId));
    expect(plan.steps[0].reasons).toContain('DISCOUNT_OVER_CEILING');

    // The console's routes on the distributed stack: the item's audit trail (ledger over gRPC),
    // which verifies against the pinned key, and the agents view (policy over gRPC).
    const trail = await waitFor('the execution under a signed checkpoint', async () => {
      const r = await review('GET', `/v1/tenants/${TENANT}/review/tasks/${task.taskId}/audit`);
      expect(r.status).toBe(200);
      return r.body.entries.some((e: { kind: string }) => e.kind === 'EXECUTION')
        ? r.body
        : undefined;
    });
    const cp = verifyCheckpoint(trail.checkpoint.signedNote, [LEDGER_VERIFIER_KEY]);
    expect(cp.ok).toBe(true);
    const root = Buffer.from(trail.checkpoint.rootHash, 'base64');
    for (const e of trail.entries as { leafIndex: number; leafData: string; auditPath: string[] }[])
      expect(
        verifyInclusion(
          e.leafIndex,
          trail.checkpoint.treeSize,
          leafHash(Buffer.from(e.leafData, 'base64')),
          e.auditPath.map((x) => Buffer.from(x, 'base64')),
          root,
        ),
      ).toEqual({ ok: true });
    expect((await review('GET', '/v1/console/config')).body.ledger.verifierKeys).toEqual([
      LEDGER_VERIFIER_KEY,
    ]);
    const agents = await review('GET', `/v1/tenants/${TENANT}/agents`);
    expect(agents.status).toBe(200);
    const desk = agents.body.agents.find((a: { agentId: string }) => a.agentId === 'deal-desk');
    const discounts = desk.actionTypes.find(
      (t: { actionType: string }) => t.actionType === 'apply_discount',
    );
    expect(discounts.history.length).toBeGreaterThan(40);
    // One agent's view (the item view's trust trend) is that agent's alone.
    const one = await review('GET', `/v1/tenants/${TENANT}/agents?agentId=deal-desk`);
    expect(one.status).toBe(200);
    expect(one.body.agents.map((a: { agentId: string }) => a.agentId)).toEqual(['deal-desk']);
    const oneDiscounts = one.body.agents[0].actionTypes.find(
      (t: { actionType: string }) => t.actionType === 'apply_discount',
    );
    expect(oneDiscounts.history.length).toBeGreaterThanOrEqual(discounts.history.length);
    // A reviewer is no admin: no kill switch.
    expect(
      (
        await review('POST', `/v1/tenants/${TENANT}/agents/kill-switch`, {
          scope: 'agent',
          agentId: 'deal-desk',
          mode: 'deny',
          reason: 'e2e',
        })
      ).status,
    ).toBe(403);

    // 5. Redelivery: the first DENY again, the same bytes. The orchestrator consumes it (its
    // group's committed offset passes it) and the plan does not change: no fourth proposal.
    const firstDeny = decisions.find((d) => d.decision.verdict === Verdict.VERDICT_DENY)!;
    expect(firstDeny.decision.proposal!.proposalId).toBe(proposals[0].proposalId);
    const [sent] = await producer!.send({
      topic: Topics.policyDecisions.name,
      acks: -1,
      messages: [{ key: firstDeny.key, value: firstDeny.value, headers: firstDeny.headers }],
    });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    try {
      const groupId = kafkaGroupId('mandate.orchestrator', Topics.policyDecisions.name);
      await waitFor('the orchestrator to consume the redelivered denial', async () => {
        const [offsets] = await kafkaAdmin.fetchOffsets({ groupId, topics: [sent.topicName] });
        const committed = offsets.partitions.find((p) => p.partition === sent.partition);
        return committed && BigInt(committed.offset) > BigInt(sent.baseOffset!) ? true : undefined;
      });
    } finally {
      await kafkaAdmin.disconnect();
    }
    const after = await planOf();
    expect(after.version).toBe(plan.version);
    expect(after.steps).toHaveLength(3);
    expect(after.status).toBe('completed');
    expect(after.usage.adaptations).toBe(2);
    const again = await chain(CORR);
    expect(again.filter((e) => kindOf(e) === 'PROPOSAL')).toHaveLength(3);
    expect(again.filter((e) => kindOf(e) === 'EXECUTION')).toHaveLength(1);
    expect((await getOpportunity(OPPORTUNITY)).appliedActions).toHaveLength(1);
  });
});
