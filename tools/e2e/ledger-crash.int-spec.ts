import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  AuditKind,
  AuditRecord,
  LedgerServiceClient,
  type AuditEntry,
  type ListEntriesResponse,
} from '@mandate/contracts';
import { verifierKeyFor } from '@mandate/ledger-domain';
import { Topics } from '@mandate/messaging';
import { KafkaEventBus } from '@mandate/messaging-kafka';
import {
  startService,
  stopService,
  truncateTopics,
  waitReady,
  waitUntil,
  type ServiceProcess,
} from './service-processes';

/**
 * The audit ledger killed with SIGKILL in the middle of appending, on the real stack (Kafka +
 * FerretDB): first at a failpoint between a batch's leaf insert and its tile writes, then at an
 * arbitrary moment of a busy ingestion. After each restart the log has no gap and no duplicate,
 * and `mandate ledger export | verify` accepts it with the trusted key.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const MONGO_URL = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
const RUN = randomBytes(4).toString('hex');
const TENANT = `ledger-${RUN}`;
const ORIGIN = 'it.mandate/ledger';
const HTTP = 24000 + Math.floor(Math.random() * 1000);
const GRPC = HTTP + 1000;
const N = 12_000;
const keys = generateKeyPairSync('ed25519');
const VKEY = verifierKeyFor(ORIGIN, keys.publicKey);
const KEKS = `kek-1:${randomBytes(32).toString('base64')}`;

const env = (extra: Record<string, string> = {}) => ({
  KAFKA_BROKERS: BROKERS,
  MONGO_URL,
  MONGO_DATABASE: `it_${RUN}_ledger`,
  LEDGER_ORIGIN: ORIGIN,
  LEDGER_SIGNING_KEY: keys.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  LEDGER_SUBJECT_KEKS: KEKS,
  ...extra,
});

function record(i: number): AuditRecord {
  return AuditRecord.fromPartial({
    recordId: `rec-${RUN}-${i}`,
    tenantId: TENANT,
    correlationId: `corr-${Math.floor(i / 4)}`,
    kind: AuditKind.AUDIT_KIND_DECISION,
    actor: 'it',
    subject: { objectType: 'lead', recordId: `lead-${Math.floor(i / 4)}` },
    occurredAt: new Date().toISOString(),
    summary: `decision ${i}`,
    payloadType: 'test',
    payload: randomBytes(200),
    dataSubjectId: i % 5 === 0 ? `lead/lead-${Math.floor(i / 4)}` : '',
  });
}

async function publish(bus: KafkaEventBus, from: number, to: number) {
  for (let i = from; i < to; i += 500) {
    const items = [];
    for (let k = i; k < Math.min(to, i + 500); k++) {
      const r = record(k);
      items.push({
        value: r,
        meta: { tenantId: TENANT, correlationId: r.correlationId, source: 'it', id: r.recordId },
      });
    }
    await bus.publishBatch(Topics.auditRecords, items);
  }
}

describe('audit ledger crash recovery on Apache Kafka and FerretDB', () => {
  let client: LedgerServiceClient;
  let ledger: ServiceProcess | undefined;
  let bus: KafkaEventBus;
  const dir = mkdtempSync(path.join(tmpdir(), 'ledger-it-'));

  const entries = async (): Promise<AuditEntry[]> => {
    const all: AuditEntry[] = [];
    for (;;) {
      const page = await new Promise<ListEntriesResponse>((resolve, reject) =>
        client.listEntries(
          { tenantId: TENANT, fromIndex: String(all.length), limit: 1000 },
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
      all.push(...page.entries);
      if (page.entries.length < 1000) return all;
    }
  };
  const start = async (extra: Record<string, string> = {}) => {
    ledger = startService('audit-ledger', HTTP, GRPC, env(extra), RUN);
    return ledger;
  };
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['tools/run.js', 'apps/mandate/src/main.js', 'ledger', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
    });

  beforeAll(async () => {
    // The topics (a fresh cluster has none; topics apply is idempotent).
    const topics = spawnSync(
      process.execPath,
      ['tools/run.js', 'apps/mandate/src/main.js', 'topics', 'apply', '--brokers', BROKERS],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (topics.status !== 0)
      throw new Error(`topics apply failed: ${topics.stderr}${topics.stdout}`);
    bus = new KafkaEventBus({ brokers: BROKERS.split(','), clientId: `it-ledger-${RUN}` });
    await bus.start();
    client = new LedgerServiceClient(`127.0.0.1:${GRPC}`, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    if (ledger) await stopService(ledger);
    await bus?.stop();
    // Its audit records would be replayed by the next suite's new consumer groups: remove them.
    await truncateTopics(BROKERS.split(','), [Topics.auditRecords.name, Topics.audit.name]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and duplicates nothing when killed mid-batch, twice, and the log verifies', async () => {
    // 1. Crash deterministically: leaves of a batch inserted, its tiles not.
    await publish(bus, 0, N / 2);
    const crashing = await start({ MANDATE_FAILPOINTS: 'ledger.after-leaves-insert' });
    expect((await crashing.exited).signal).toBe('SIGKILL');

    // 2. Restart, and kill it again from outside while it is busy.
    const busy = await start();
    await waitReady(busy);
    await publish(bus, N / 2, N);
    await waitUntil(
      'the ledger to be busy appending',
      async () => ((await entries()).length > N / 2 + 1000 ? true : undefined),
      120_000,
      100,
    );
    busy.child.kill('SIGKILL');
    expect((await busy.exited).signal).toBe('SIGKILL');

    // 3. Restart: everything is appended exactly once.
    const final = await start();
    await waitReady(final);
    const all = await waitUntil(
      'every record in the log',
      async () => {
        const e = await entries();
        return e.length >= N ? e : undefined;
      },
      180_000,
      500,
    );
    expect(all.map((e) => Number(e.leafIndex))).toEqual(Array.from({ length: N }, (_, i) => i));
    const ids = new Set(all.map((e) => e.record!.recordId));
    expect(ids.size).toBe(N);
    for (let i = 0; i < N; i += 997) expect(ids.has(`rec-${RUN}-${i}`)).toBe(true);

    // 4. The auditor's view: export with the trusted key, verify, and a monitor cycle.
    await waitUntil('a checkpoint covering every record', async () => {
      const cp = await new Promise<number>((resolve, reject) =>
        client.getCheckpoint({ tenantId: TENANT }, (err, res) =>
          err ? reject(err) : resolve(Number(res.checkpoint?.treeSize ?? 0)),
        ),
      );
      return cp >= N ? true : undefined;
    });
    const file = path.join(dir, 'export.jsonl');
    const exported = cli(
      'export',
      '--grpc',
      `127.0.0.1:${GRPC}`,
      '--tenant',
      TENANT,
      '--out',
      file,
    );
    expect(exported.status).toBe(0);
    const verified = cli('verify', '--export', file, '--key', VKEY);
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toMatch(new RegExp(`^OK .* ${N} entries`, 'm'));
    expect(verified.status).toBe(0);
    const monitored = cli(
      'monitor',
      '--grpc',
      `127.0.0.1:${GRPC}`,
      '--tenant',
      TENANT,
      '--key',
      VKEY,
      '--once',
    );
    expect(monitored.status).toBe(0);
  }, 600_000);
});
