import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import {
  ActionProposal,
  CrmAction,
  ErrorClass,
  ExecutionOutcome,
  ExecutionStatus,
  PolicyDecision,
  Verdict,
} from '@mandate/contracts';
import {
  DecisionTokenIssuer,
  generateSigningKeyPair,
  parsePrivateKey,
} from '@mandate/decision-token';
import { Topics, type Subscription } from '@mandate/messaging';
import { KafkaEventBus } from '@mandate/messaging-kafka';
import { generateApiToken } from '@mandate/platform';
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
 * Safe execution on the real stack (npm run stack:up; `npm run test:integration` builds first):
 * the crm-connectors process on Apache Kafka and FerretDB executes 1,000 approved actions, with
 * redelivered and re-decided duplicates, and is SIGKILLed in the middle. Every action executes
 * exactly once in the embedded CRM; forged and replayed tokens execute nothing.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const MONGO_URL = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const RUN = randomBytes(4).toString('hex');
const TENANT = `xo-${RUN}`;
const HTTP = 24000 + Math.floor(Math.random() * 1000);
const GRPC = HTTP + 1000;
const ACTIONS = 1000;
const LEADS = 100;

const keys = generateSigningKeyPair();
const rogueKeys = generateSigningKeyPair();
const issuer = new DecisionTokenIssuer(
  { keyId: 'xo-1', privateKey: parsePrivateKey(keys.privateKey) },
  30 * 60_000,
);
// Same key id, another private key: what an attacker without the policy key can produce.
const forger = new DecisionTokenIssuer(
  { keyId: 'xo-1', privateKey: parsePrivateKey(rogueKeys.privateKey) },
  30 * 60_000,
);

/** A user of the test tenant's embedded CRM (its HTTP routes need a token bound to the tenant). */
const crmUser = generateApiToken();
const crmAuth = { authorization: `Bearer ${crmUser.token}` };

const leadId = (i: number) => `lead-${String(i % LEADS).padStart(3, '0')}`;

function proposal(key: string, lead: string): ActionProposal {
  return ActionProposal.fromPartial({
    proposalId: randomUUID(),
    tenantId: TENANT,
    correlationId: `corr-${key}`,
    agentId: 'xo-agent',
    idempotencyKey: key,
    target: { objectType: 'lead', recordId: lead },
    action: CrmAction.fromPartial({
      kind: {
        $case: 'createTask',
        value: { subject: `follow up ${key}`, ownerId: '', notes: '', dueAt: undefined },
      },
    }),
    rationale: 'exactly-once test',
    confidence: 0.9,
  });
}

function decide(p: ActionProposal, signer = issuer): PolicyDecision {
  return PolicyDecision.fromPartial({
    decisionId: randomUUID(),
    tenantId: TENANT,
    correlationId: p.correlationId,
    proposal: p,
    verdict: Verdict.VERDICT_AUTO,
    token: signer.issue(p, Verdict.VERDICT_AUTO),
  });
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

describe('exactly-once execution on Apache Kafka and FerretDB, through a connector SIGKILL', () => {
  let bus: KafkaEventBus;
  let connector: ServiceProcess | undefined;
  let outcomesSub: Subscription | undefined;
  const outcomes: ExecutionOutcome[] = [];

  const start = () => {
    connector = startService(
      'crm-connectors',
      HTTP,
      GRPC,
      {
        KAFKA_BROKERS: BROKERS,
        MONGO_URL,
        MONGO_DATABASE: `xo_${RUN}`,
        DECISION_VERIFY_KEYS: `xo-1=${keys.publicKey}`,
        MANDATE_API_TOKENS: JSON.stringify([
          { id: 'crm-user', roles: ['crm-user'], tenantId: TENANT, sha256: crmUser.sha256 },
        ]),
      },
      RUN,
    );
    return connector;
  };
  const lead = async (id: string) => {
    const res = await fetch(`http://127.0.0.1:${HTTP}/v1/tenants/${TENANT}/crm/lead/${id}`, {
      headers: crmAuth,
    });
    if (res.status !== 200) throw new Error(`GET ${id}: ${res.status}`);
    return (await res.json()) as {
      appliedActions: string[];
      activities: Array<{ idempotencyKey: string }>;
    };
  };
  const publish = (decisions: PolicyDecision[]) =>
    bus.publishBatch(
      Topics.policyDecisions,
      decisions.map((d) => ({
        value: d,
        meta: { tenantId: TENANT, correlationId: d.correlationId, source: 'xo-test' },
      })),
    );

  beforeAll(async () => {
    const topics = spawnSync(
      process.execPath,
      ['tools/run.js', 'apps/mandate/src/main.js', 'topics', 'apply', '--brokers', BROKERS],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (topics.status !== 0)
      throw new Error(`topics apply failed: ${topics.stderr}${topics.stdout}`);
    bus = new KafkaEventBus({ brokers: BROKERS.split(','), clientId: `it-xo-${RUN}` });
    await bus.start();
    outcomesSub = await bus.subscribe(Topics.executionOutcomes, {
      group: `it-xo-outcomes-${RUN}`,
      fromBeginning: true,
      handler: async (env) => {
        if (env.value.tenantId === TENANT) outcomes.push(env.value);
      },
    });
    await waitReady(start());
    for (let i = 0; i < LEADS; i++) {
      const res = await fetch(`http://127.0.0.1:${HTTP}/v1/tenants/${TENANT}/crm/lead`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...crmAuth },
        body: JSON.stringify({ id: leadId(i), fields: { name: `Lead ${i}`, status: 'New' } }),
      });
      expect(res.status).toBe(201);
    }
  }, 180_000);

  afterAll(async () => {
    if (connector) await stopService(connector);
    await outcomesSub?.unsubscribe();
    await bus?.stop();
    // 1,500 decisions and their outcomes would be replayed by the next suite's new consumer
    // groups (they read from the start): remove them.
    await truncateTopics(BROKERS.split(','), [
      Topics.policyDecisions.name,
      Topics.executionOutcomes.name,
      Topics.crmChanges.name,
      Topics.auditRecords.name,
    ]);
  });

  it('executes 1,000 approved actions once each despite duplicates and a SIGKILL; forged and replayed tokens execute nothing', async () => {
    const genuine = Array.from({ length: ACTIONS }, (_, i) =>
      decide(proposal(`k-${i}`, leadId(i))),
    );
    // Redeliveries (the same decision again) and re-decisions (a second valid token for the key).
    const redelivered = genuine.filter((_, i) => i % 4 === 0);
    const redecided = genuine.filter((_, i) => i % 10 === 1).map((d) => decide(d.proposal!));
    // Forged: a token signed with a key that is not policy's, for keys never approved.
    const forged = Array.from({ length: 50 }, (_, i) =>
      decide(proposal(`forged-${i}`, leadId(i)), forger),
    );
    // Replayed: a genuine token taken from an approved decision, attached to a new action.
    const replayed = Array.from({ length: 50 }, (_, i) => {
      const p = proposal(`replayed-${i}`, leadId(i + 1));
      return PolicyDecision.fromPartial({
        decisionId: randomUUID(),
        tenantId: TENANT,
        correlationId: p.correlationId,
        proposal: p,
        verdict: Verdict.VERDICT_AUTO,
        token: genuine[i].token,
      });
    });
    const all = shuffle([...genuine, ...redelivered, ...redecided, ...forged, ...replayed]);
    const half = Math.floor(all.length / 2);
    await publish(all.slice(0, half));

    // Kill the connector in the middle of the flow: some decisions executed, some claimed
    // and not finished, the rest not yet consumed.
    await waitUntil(
      'a third of the actions to execute',
      async () =>
        outcomes.filter((o) => o.status === ExecutionStatus.EXECUTION_STATUS_EXECUTED).length >=
        ACTIONS / 3
          ? true
          : undefined,
      120_000,
    );
    connector!.child.kill('SIGKILL');
    await connector!.exited;
    await publish(all.slice(half));
    await waitReady(start());

    const executedKeys = () =>
      new Set(
        outcomes
          .filter((o) => o.status === ExecutionStatus.EXECUTION_STATUS_EXECUTED)
          .map((o) => o.idempotencyKey),
      );
    try {
      await waitUntil(
        'every genuine action to execute',
        async () => (executedKeys().size >= ACTIONS ? true : undefined),
        240_000,
        500,
      );
    } catch (err) {
      throw new Error(
        `${String(err)}; executed ${executedKeys().size}; log:\n${tail(connector!.logFile)}`,
      );
    }
    // Let the duplicates and refusals drain too.
    const refusalsExpected = forged.length + replayed.length;
    await waitUntil(
      'every forged and replayed decision to be refused',
      async () =>
        outcomes.filter((o) => o.status === ExecutionStatus.EXECUTION_STATUS_REFUSED).length >=
        refusalsExpected
          ? true
          : undefined,
      120_000,
      500,
    );

    // The CRM: each genuine key applied exactly once, nothing else applied.
    const applied = new Map<string, number>();
    const activities = new Map<string, number>();
    for (let i = 0; i < LEADS; i++) {
      const record = await lead(leadId(i));
      for (const k of record.appliedActions) applied.set(k, (applied.get(k) ?? 0) + 1);
      for (const a of record.activities)
        activities.set(a.idempotencyKey, (activities.get(a.idempotencyKey) ?? 0) + 1);
    }
    const genuineKeys = genuine.map((d) => d.proposal!.idempotencyKey);
    expect(genuineKeys.filter((k) => applied.get(k) !== 1)).toEqual([]);
    expect(genuineKeys.filter((k) => activities.get(k) !== 1)).toEqual([]);
    expect([...applied.keys()].filter((k) => !genuineKeys.includes(k))).toEqual([]);
    expect(applied.size).toBe(ACTIONS);

    // Every forged and replayed decision was refused as an invalid token, and audited as such.
    const refused = outcomes.filter((o) => o.status === ExecutionStatus.EXECUTION_STATUS_REFUSED);
    const refusedKeys = new Set(refused.map((o) => o.idempotencyKey));
    for (const d of [...forged, ...replayed])
      expect(refusedKeys.has(d.proposal!.idempotencyKey)).toBe(true);
    expect(refused.every((o) => o.errorClass === ErrorClass.ERROR_CLASS_TOKEN_INVALID)).toBe(true);
    // Of two valid decisions for one key, one executed and the other was suppressed.
    const byStatus = (status: ExecutionStatus) =>
      new Set(outcomes.filter((o) => o.status === status).map((o) => o.decisionId));
    const executedBy = byStatus(ExecutionStatus.EXECUTION_STATUS_EXECUTED);
    const suppressed = byStatus(ExecutionStatus.EXECUTION_STATUS_DUPLICATE_SUPPRESSED);
    const byKey = new Map(genuine.map((d) => [d.proposal!.idempotencyKey, d]));
    for (const second of redecided) {
      const first = byKey.get(second.proposal!.idempotencyKey)!;
      const ran = [first, second].filter((d) => executedBy.has(d.decisionId));
      expect(ran).toHaveLength(1);
      expect(suppressed.has(ran[0] === first ? second.decisionId : first.decisionId)).toBe(true);
    }
  }, 600_000);
});
