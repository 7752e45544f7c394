import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  AuditEntry,
  AuditKind,
  LedgerServiceClient,
  ListByCorrelationResponse,
} from '@mandate/contracts';
import { generateSigningKeyPair } from '@mandate/decision-token';
import { DLQ_HEADERS, Topics } from '@mandate/messaging';
import { KafkaEventBus } from '@mandate/messaging-kafka';
import { cleanTrackRecord, readBundleFiles } from '@mandate/policy-domain';
import { generateApiToken } from '@mandate/platform';
import { Kafka, logLevel } from 'kafkajs';
import {
  ServiceProcess,
  startService,
  stopService,
  tail,
  waitReady,
  waitUntil,
} from './service-processes';

/**
 * The walking skeleton over the real stack (npm run stack:up): five separately started service
 * processes, Apache Kafka and FerretDB. Run with `npm run test:integration` (it builds first).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const MONGO_URL = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const RUN = randomBytes(4).toString('hex');
const TENANT = `it-${RUN}`;
const BASE = 20000 + Math.floor(Math.random() * 2000) * 10;
const keys = generateSigningKeyPair();
const admins = [
  { id: 'admin-1', roles: ['policy-admin'], ...generateApiToken() },
  { id: 'admin-2', roles: ['policy-admin'], ...generateApiToken() },
];
/** A user of the test tenant's embedded CRM (its HTTP routes need a token bound to the tenant). */
const crmUser = { id: 'crm-user', roles: ['crm-user'], ...generateApiToken() };
const ledgerEnv = {
  LEDGER_SIGNING_KEY: generateKeyPairSync('ed25519')
    .privateKey.export({ format: 'der', type: 'pkcs8' })
    .toString('base64'),
  LEDGER_SUBJECT_KEKS: `kek-1:${randomBytes(32).toString('base64')}`,
};
/** Stated bound: a kill switch or bundle activation reaches every policy replica within this. */
const PROPAGATION_BOUND_MS = 5_000;

const SERVICES = [
  'orchestrator',
  'policy',
  'human-review',
  'audit-ledger',
  'crm-connectors',
] as const;
type Service = (typeof SERVICES)[number];
const port = (s: Service, grpc = false) => BASE + (grpc ? 11 : 1) + SERVICES.indexOf(s);

function envFor(s: Service, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: BROKERS,
    MONGO_URL,
    MONGO_DATABASE: `it_${RUN}_${s.replace('-', '_')}`,
    DECISION_SIGNING_KEY: keys.privateKey,
    DECISION_SIGNING_KEY_ID: 'it-1',
    DECISION_VERIFY_KEYS: `it-1=${keys.publicKey}`,
    ...(s === 'audit-ledger' ? ledgerEnv : {}),
    ...(s === 'crm-connectors'
      ? {
          MANDATE_API_TOKENS: JSON.stringify([
            { id: crmUser.id, roles: crmUser.roles, tenantId: TENANT, sha256: crmUser.sha256 },
          ]),
        }
      : {}),
    ...(s === 'orchestrator'
      ? { CONNECTOR_GRPC_ADDRESS: `127.0.0.1:${port('crm-connectors', true)}` }
      : {}),
    ...(s === 'policy'
      ? {
          CONNECTOR_GRPC_ADDRESS: `127.0.0.1:${port('crm-connectors', true)}`,
          MANDATE_API_TOKENS: JSON.stringify(
            admins.map(({ id, roles, sha256 }) => ({ id, roles, sha256 })),
          ),
          BUNDLE_SYNC_INTERVAL_MS: '2000',
        }
      : {}),
    ...extra,
  };
}

const running = new Map<Service, ServiceProcess>();
async function start(s: Service, extra: Record<string, string> = {}): Promise<ServiceProcess> {
  const p = startService(s, port(s), port(s, true), envFor(s, extra), RUN);
  running.set(s, p);
  return p;
}

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
const kinds = (entries: AuditEntry[]) =>
  entries.map((e) => AuditKind[e.record!.kind].replace('AUDIT_KIND_', ''));

async function createLead(id: string, correlationId: string, fields: Record<string, unknown>) {
  const res = await fetch(
    `http://127.0.0.1:${port('crm-connectors')}/v1/tenants/${TENANT}/crm/lead`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${crmUser.token}` },
      body: JSON.stringify({ id, fields, correlationId }),
    },
  );
  expect(res.status).toBe(201);
}
async function getLead(id: string) {
  const res = await fetch(
    `http://127.0.0.1:${port('crm-connectors')}/v1/tenants/${TENANT}/crm/lead/${id}`,
    { headers: { authorization: `Bearer ${crmUser.token}` } },
  );
  return res.status === 200
    ? ((await res.json()) as { fields: Record<string, unknown>; appliedActions: string[] })
    : undefined;
}
/** The policy operator API of one replica, as `admin`. */
async function policyApi(
  httpPort: number,
  admin: 0 | 1,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}${route}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admins[admin].token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * The lead-qualification agent's track record in this run's tenant, published on the
 * trust-evidence topic like real outcomes; resolves once policy has applied it.
 */
async function seedTrust(): Promise<void> {
  const bus = new KafkaEventBus({ brokers: BROKERS.split(','), clientId: `it-seed-${RUN}` });
  await bus.start();
  try {
    for (const e of cleanTrackRecord({
      tenantId: TENANT,
      agentId: 'lead-qualification',
      actionType: 'qualify_lead',
      count: 40,
      until: new Date(),
    }))
      await bus.publish(Topics.trustEvidence, e, {
        tenantId: TENANT,
        correlationId: e.correlationId,
        source: 'it-seed',
        id: `trust/${e.eventId}`,
      });
  } finally {
    await bus.stop();
  }
  await waitUntil('the track record to be applied', async () => {
    const r = await policyApi(
      port('policy'),
      0,
      'GET',
      `/v1/tenants/${TENANT}/policy/trust/lead-qualification/qualify_lead`,
    );
    return r.body?.evidence?.execution_success >= 40 ? true : undefined;
  });
}

const HOT_LEAD = {
  employees: 1200,
  title: 'VP Operations',
  source: 'demo-request',
  industry: 'logistics',
  notes: 'pricing for 300 seats',
};

describe('walking skeleton on Apache Kafka and FerretDB', () => {
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const cli = spawnSync(
        process.execPath,
        ['tools/run.js', 'apps/mandate/src/main.js', 'topics', 'apply', '--brokers', BROKERS],
        { cwd: ROOT, encoding: 'utf8' },
      );
      if (cli.status !== 0) throw new Error(`topics apply failed: ${cli.stderr}${cli.stdout}`);
      // Idempotent: the second run finds every topic as declared.
      if (i === 1) expect(cli.stdout).not.toMatch(/^(created|updated)/m);
    }
    await Promise.all(SERVICES.map((s) => start(s)));
    await Promise.all([...running.values()].map((p) => waitReady(p)));
    ledger = new LedgerServiceClient(
      `127.0.0.1:${port('audit-ledger', true)}`,
      credentials.createInsecure(),
    );
    await seedTrust();
  });

  afterAll(async () => {
    ledger?.close();
    await Promise.all([...running.values()].map(stopService));
  });

  it('rejects a bad configuration at start-up with a clear message', async () => {
    const bad = startService(
      'policy',
      BASE + 9,
      BASE + 19,
      { ...envFor('policy'), KAFKA_BROKERS: 'not a broker list', DECISION_SIGNING_KEY: '' },
      RUN,
    );
    const { code } = await bad.exited;
    expect(code).toBe(78);
    const log = tail(bad.logFile);
    expect(log).toMatch(/KAFKA_BROKERS: must be a comma-separated list of host:port/);
    expect(log).toMatch(/DECISION_SIGNING_KEY/);
  });

  it('carries one action from a CRM change through all services to the CRM, with every step in the ledger', async () => {
    await createLead('lead-e2e-1', `corr-${RUN}-1`, HOT_LEAD);
    const entries = await waitUntil('the execution to be audited', async () => {
      const c = await chain(`corr-${RUN}-1`);
      return kinds(c).includes('OUTCOME') ? c : undefined;
    });
    expect(kinds(entries)).toEqual(
      expect.arrayContaining([
        'CRM_CHANGE',
        'CONTEXT_PREPARED',
        'PROPOSAL',
        'DECISION',
        'EXECUTION',
        'OUTCOME',
      ]),
    );
    expect(new Set(entries.map((e) => e.record!.correlationId))).toEqual(
      new Set([`corr-${RUN}-1`]),
    );
    expect(new Set(entries.map((e) => e.record!.actor.split('/')[0]))).toEqual(
      new Set(['crm-connectors', 'orchestrator', 'policy']),
    );
    const lead = await getLead('lead-e2e-1');
    expect(lead?.fields['status']).toBe('Qualified');
    expect(lead?.appliedActions).toHaveLength(1);
    // The CRM's HTTP routes: 401 without a token, 403 for a path of another tenant.
    const crm = `http://127.0.0.1:${port('crm-connectors')}/v1/tenants`;
    expect((await fetch(`${crm}/${TENANT}/crm/lead/lead-e2e-1`)).status).toBe(401);
    const elsewhere = await fetch(`${crm}/other-${RUN}/crm/lead/lead-e2e-1`, {
      headers: { authorization: `Bearer ${crmUser.token}` },
    });
    expect(elsewhere.status).toBe(403);
  });

  it('opens a human review task for a low-fit lead instead of executing it', async () => {
    await createLead('lead-e2e-2', `corr-${RUN}-2`, {
      employees: 2,
      title: 'Student',
      source: 'web',
      email: 'x@gmail.com',
      status: 'New',
    });
    const entries = await waitUntil('the review task', async () => {
      const c = await chain(`corr-${RUN}-2`);
      return kinds(c).includes('REVIEW_TASK') ? c : undefined;
    });
    expect(entries.map((e) => e.record!.actor)).toContain('human-review');
    expect(kinds(entries)).not.toContain('EXECUTION');
    const lead = await getLead('lead-e2e-2');
    expect(lead?.fields['status']).toBe('New');
    expect(lead?.appliedActions).toHaveLength(0);
  });

  it('completes an action exactly once when the connector is killed mid-flow and restarted', async () => {
    await stopService(running.get('crm-connectors')!);
    const crashing = await start('crm-connectors', {
      MANDATE_FAILPOINTS: 'connector.after-crm-write',
    });
    await waitReady(crashing);
    await createLead('lead-e2e-3', `corr-${RUN}-3`, HOT_LEAD);
    const exit = await crashing.exited;
    expect(exit.signal).toBe('SIGKILL'); // died after writing the CRM, before committing the decision

    const restarted = await start('crm-connectors');
    await waitReady(restarted);
    const entries = await waitUntil(
      'the redelivered execution',
      async () => {
        const c = await chain(`corr-${RUN}-3`);
        return kinds(c).includes('OUTCOME') ? c : undefined;
      },
      120_000,
    );
    expect(kinds(entries).filter((k) => k === 'EXECUTION')).toHaveLength(1);
    const lead = await getLead('lead-e2e-3');
    expect(lead?.fields['status']).toBe('Qualified');
    expect(lead?.appliedActions).toHaveLength(1);
  });

  it('dead-letters a malformed message on every consumed topic, with the reason, and keeps consuming', async () => {
    const kafka = new Kafka({
      clientId: `it-${RUN}`,
      brokers: BROKERS.split(','),
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    const consumed = [
      Topics.crmChanges,
      Topics.actionsProposed,
      Topics.policyDecisions,
      Topics.executionOutcomes,
      Topics.reviewDecisions,
      Topics.trustEvidence,
      Topics.policyControl,
      Topics.auditRecords,
      Topics.planHandOffs,
    ];
    const marker = `malformed-${RUN}`;
    for (const topic of consumed) {
      await producer.send({
        topic: topic.name,
        messages: [
          {
            key: `${TENANT}/lead/x`,
            value: Buffer.from([0xff, 0x01, 0x02]),
            headers: { ce_id: marker, ce_type: 'garbage' },
          },
        ],
      });
    }
    await producer.disconnect();

    const seen = new Map<string, string>();
    const consumer = kafka.consumer({ groupId: `it-dlq-${RUN}` });
    await consumer.connect();
    await consumer.subscribe({ topics: consumed.map((t) => t.deadLetter), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const h = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        if (h['ce_id'] === marker) seen.set(topic, h[DLQ_HEADERS.reason] ?? '');
      },
    });
    try {
      await waitUntil(
        'every dead letter',
        async () => (seen.size === consumed.length ? true : undefined),
        90_000,
      );
    } finally {
      await consumer.disconnect();
    }
    for (const reason of seen.values()) expect(reason).toMatch(/ce_/);

    // The consumers kept going: the next lead still flows end to end.
    await createLead('lead-e2e-4', `corr-${RUN}-4`, HOT_LEAD);
    await waitUntil('the lead after the malformed messages', async () =>
      (await getLead('lead-e2e-4'))?.fields['status'] === 'Qualified' ? true : undefined,
    );
  });

  it('propagates a kill switch and a bundle activation to every policy replica within the stated bound', async () => {
    const second = startService('policy', BASE + 50, BASE + 60, envFor('policy'), RUN);
    try {
      await waitReady(second);
      const replicas = [port('policy'), BASE + 50];
      await createLead('lead-e2e-5', `corr-${RUN}-5`, HOT_LEAD);
      const proposal = {
        proposalId: `preview-${RUN}`,
        tenantId: TENANT,
        correlationId: `corr-${RUN}-preview`,
        agentId: 'lead-qualification',
        idempotencyKey: `preview-${RUN}`,
        confidence: 0.95,
        target: { objectType: 'lead', recordId: 'lead-e2e-5' },
        action: { qualifyLead: { score: 90, reason: 'fit' } },
      };
      const killed = async (httpPort: number) => {
        const r = await policyApi(httpPort, 0, 'POST', '/v1/policy/preview', proposal);
        return (r.body?.explanation?.reasonCodes ?? []).includes('KILL_SWITCH_TENANT');
      };
      /** Milliseconds until `probe` holds on every replica (polled every 20 ms). */
      const propagation = async (probe: (httpPort: number) => Promise<boolean>) => {
        const t0 = Date.now();
        const reached = await Promise.all(
          replicas.map(async (p) => {
            await waitUntil(
              'propagation',
              async () => ((await probe(p)) ? true : undefined),
              30_000,
              20,
            );
            return Date.now() - t0;
          }),
        );
        return Math.max(...reached);
      };
      for (const p of replicas) expect(await killed(p)).toBe(false);

      const target = { scope: 'tenant', tenantId: TENANT };
      expect(
        (
          await policyApi(replicas[0], 0, 'POST', '/v1/policy/kill-switches', {
            ...target,
            mode: 'deny',
            reason: 'e2e: stop the tenant',
          })
        ).status,
      ).toBe(201);
      const setMs = await propagation(killed);
      expect(
        (
          await policyApi(replicas[1], 1, 'POST', '/v1/policy/kill-switches/clear', {
            ...target,
            reason: 'e2e: resume',
          })
        ).status,
      ).toBe(201);
      const clearMs = await propagation(async (p) => !(await killed(p)));

      const files = await readBundleFiles(path.join(ROOT, 'libs/policy/bundles/default'));
      const version = `1.0.1-e2e-${RUN}`;
      files['bundle.json'] = JSON.stringify({ ...JSON.parse(files['bundle.json']), version });
      expect(
        (await policyApi(replicas[1], 0, 'POST', '/v1/policy/bundles', { files })).status,
      ).toBe(201);
      expect(
        (
          await policyApi(replicas[1], 1, 'POST', `/v1/policy/bundles/${version}/activate`, {
            reason: 'e2e: roll out',
          })
        ).status,
      ).toBe(200);
      const activateMs = await propagation(
        async (p) =>
          (await policyApi(p, 0, 'GET', '/v1/policy/bundles')).body?.serving?.version === version,
      );
      process.stdout.write(
        `policy replicas: kill switch set reached both in ${setMs} ms, cleared in ${clearMs} ms, ` +
          `bundle activation in ${activateMs} ms (bound ${PROPAGATION_BOUND_MS} ms)\n`,
      );
      for (const ms of [setMs, clearMs, activateMs])
        expect(ms).toBeLessThanOrEqual(PROPAGATION_BOUND_MS);
    } finally {
      await stopService(second);
    }
  });

  it('serves health, readiness and Prometheus metrics on every service', async () => {
    for (const s of SERVICES) {
      const base = `http://127.0.0.1:${port(s)}`;
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect((await fetch(`${base}/ready`)).status).toBe(200);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain(`service="${s}"`);
    }
  });
});
