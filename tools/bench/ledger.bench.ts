/**
 * `npm run bench:ledger`: the audit ledger against FerretDB (MONGO_URL, default
 * mongodb://127.0.0.1:27017; `npm run stack:up` first). One run, this machine; no assertions.
 *
 *  1. raw batched inserts of leaf-sized documents into the same store (the comparison baseline)
 *  2. sustained appends (LedgerWriter, batches of BENCH_BATCH) with a checkpoint signed every
 *     second, and the time from an event's arrival to its inclusion in a signed checkpoint
 *  3. inclusion proof generation and verification at the final tree size
 *  4. export of the whole log and `verifyExport` of it (BENCH_RECORDS records, default 100k)
 */
import 'reflect-metadata';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { AuditKind, AuditRecord } from '@mandate/contracts';
import {
  exportLedger,
  LEDGER_CHECKPOINTS,
  LEDGER_LEAVES,
  LEDGER_PUBLICATION,
  LedgerPublisher,
  LEDGER_SUBJECT_KEYS,
  LEDGER_TILES,
  LedgerReader,
  LedgerWriter,
  NoteSigner,
  PayloadCipher,
  SubjectKeyStore,
  verifierKeyFor,
  verifyExport,
  verifyInclusion,
  type LeafDoc,
} from '@mandate/ledger-domain';
import { defineCollection, tenantId } from '@mandate/storage';
import { MongoConnection, MongoDocumentStore } from '@mandate/storage-mongo';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CHECKPOINT_EVERY_MS = 1000;
const TENANT = tenantId(`bench-${randomBytes(3).toString('hex')}`);
const ORIGIN = 'bench.mandate/ledger';

function pct(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
const out = (s: string) => process.stdout.write(`${s}\n`);

function record(i: number): AuditRecord {
  return AuditRecord.fromPartial({
    recordId: `bench-${TENANT}-${i}`,
    tenantId: TENANT,
    correlationId: `corr-${Math.floor(i / 6)}`,
    kind: AuditKind.AUDIT_KIND_DECISION,
    actor: 'policy',
    subject: { objectType: 'lead', recordId: `lead-${Math.floor(i / 6)}` },
    occurredAt: new Date().toISOString(),
    summary: 'qualify_lead → AUTO (risk low, trust high; MATRIX)',
    payloadType: 'mandate.v1.PolicyDecision',
    payload: randomBytes(320),
    attributes: { verdict: 'VERDICT_AUTO', bundleVersion: '1.0.0' },
    // One record in ten is about a person: its payload is encrypted under the subject's key.
    dataSubjectId: i % 10 === 0 ? `lead/lead-${Math.floor(i / 6)}` : '',
  });
}

async function main() {
  const url = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017';
  const database = `mandate_bench_${randomBytes(3).toString('hex')}`;
  const connection = await new MongoConnection({ url, database, appName: 'bench' }).connect();
  const store = async <T extends { id: string }>(
    def: Parameters<typeof defineCollection<T>>[0],
  ) => {
    const s = new MongoDocumentStore<T>(connection, defineCollection<T>(def));
    await s.ensureIndexes();
    return s;
  };
  try {
    out(
      `ledger bench: ${RECORDS} records in batches of ${BATCH}, checkpoint every ${CHECKPOINT_EVERY_MS} ms, FerretDB at ${connection.redactedUrl}, Node ${process.version}`,
    );

    // 1. Raw batched inserts of the same documents (no hashing, no tiles, no checkpoints).
    const raw = await store<LeafDoc>({ ...LEDGER_LEAVES, name: 'raw_leaves' });
    const rawN = Math.min(RECORDS, 50_000);
    const rawDocs = Array.from({ length: rawN }, (_, i) => {
      const bytes = AuditRecord.encode(record(i)).finish();
      return {
        id: String(i).padStart(14, '0'),
        index: i,
        recordId: `raw-${i}`,
        correlationId: `corr-${Math.floor(i / 6)}`,
        subjectKey: `lead/lead-${Math.floor(i / 6)}`,
        leafHash: randomBytes(32).toString('base64'),
        record: Buffer.from(bytes).toString('base64'),
        appendedAt: new Date(),
      } satisfies LeafDoc;
    });
    let t = performance.now();
    for (let i = 0; i < rawN; i += BATCH) await raw.insertMany(TENANT, rawDocs.slice(i, i + BATCH));
    const rawRate = rawN / ((performance.now() - t) / 1000);
    out(
      `raw batched insert (same store, same documents)   ${rawRate.toFixed(0).padStart(8)} docs/s`,
    );

    // 2. Sustained appends with checkpoints every second.
    const keys = generateKeyPairSync('ed25519');
    const leaves = await store(LEDGER_LEAVES);
    const tiles = await store(LEDGER_TILES);
    const checkpoints = await store(LEDGER_CHECKPOINTS);
    const subjectKeys = await store(LEDGER_SUBJECT_KEYS);
    const writer = new LedgerWriter({
      leaves,
      tiles,
      checkpoints,
      signer: new NoteSigner(ORIGIN, keys.privateKey),
      origin: () => ORIGIN,
      cipher: new PayloadCipher(
        new SubjectKeyStore(subjectKeys, { keks: [{ id: 'bench', key: randomBytes(32) }] }),
      ),
    });
    // Publication as the service does it (entries read from the writer's memory), to a sink
    // that only counts: Kafka is not part of this measurement.
    let published = 0;
    const reader = new LedgerReader(leaves, tiles, checkpoints, () => ORIGIN);
    const publisher = new LedgerPublisher(
      reader,
      await store(LEDGER_PUBLICATION),
      async (_t, entries) => {
        published += entries.length;
      },
      1000,
      writer,
    );
    const arrivals: Array<{ size: number; at: number }> = [];
    const inclusion: number[] = [];
    let checkpointsSigned = 0;
    let appending = true;
    const checkpointer = (async () => {
      while (appending || arrivals.length) {
        await new Promise((r) => setTimeout(r, CHECKPOINT_EVERY_MS));
        const cp = await writer.checkpoint(TENANT);
        if (!cp) continue;
        checkpointsSigned++;
        await publisher.publishUpTo(TENANT, cp);
        const now = performance.now();
        while (arrivals.length && arrivals[0].size <= cp.size) {
          const a = arrivals.shift()!;
          inclusion.push(now - a.at);
        }
      }
    })();
    // The records arrive ready-made (the emitting services built them), like the raw documents.
    const batches: AuditRecord[][] = [];
    for (let i = 0; i < RECORDS; i += BATCH)
      batches.push(Array.from({ length: Math.min(BATCH, RECORDS - i) }, (_, k) => record(i + k)));
    t = performance.now();
    for (const [b, batch] of batches.entries()) {
      const i = b * BATCH;
      const arrived = performance.now();
      await writer.appendBatch(TENANT, batch);
      arrivals.push({ size: i + batch.length, at: arrived });
    }
    const appendSeconds = (performance.now() - t) / 1000;
    appending = false;
    await checkpointer;
    const appendRate = RECORDS / appendSeconds;
    out(
      `sustained appends (checkpoint every 1 s, published) ${appendRate.toFixed(0).padStart(8)} records/s   (${checkpointsSigned} checkpoints; ${(appendRate / rawRate).toFixed(2)}x the raw insert rate)`,
    );
    out(
      `event → inclusion in a signed checkpoint          p50 ${pct(inclusion, 0.5).toFixed(0).padStart(6)} ms   p99 ${pct(inclusion, 0.99).toFixed(0).padStart(6)} ms   (batch arrival to the checkpoint covering it)`,
    );

    if (published !== RECORDS) throw new Error(`published ${published} of ${RECORDS}`);

    // 3. Proofs at the final size.
    const cp = (await reader.latestCheckpoint(TENANT))!;
    const root = Buffer.from(cp.rootHash, 'base64');
    const gen: number[] = [];
    const ver: number[] = [];
    let maxBytes = 0;
    for (let k = 0; k < 500; k++) {
      const index = Math.floor(Math.random() * cp.size);
      const hash = await reader.leafHashAt(TENANT, index, cp.size);
      let s = performance.now();
      const proof = await reader.inclusionProof(TENANT, index, cp.size);
      gen.push((performance.now() - s) * 1000);
      s = performance.now();
      const ok = verifyInclusion(index, cp.size, hash, proof, root);
      ver.push((performance.now() - s) * 1000);
      if (!ok.ok) throw new Error(`proof for ${index} did not verify: ${ok.reason}`);
      maxBytes = Math.max(maxBytes, proof.length * 32);
    }
    const bound = 32 * Math.ceil(Math.log2(cp.size));
    out(
      `inclusion proof generation (n = ${cp.size})          p50 ${pct(gen, 0.5).toFixed(0).padStart(6)} µs   p99 ${pct(gen, 0.99).toFixed(0).padStart(6)} µs`,
    );
    out(
      `inclusion proof verification                      p50 ${pct(ver, 0.5).toFixed(1).padStart(6)} µs   p99 ${pct(ver, 0.99).toFixed(1).padStart(6)} µs   (max proof ${maxBytes} bytes; bound 32·⌈log2 n⌉ = ${bound})`,
    );

    // 4. Export and verify.
    const dir = await mkdtemp(path.join(tmpdir(), 'ledger-bench-'));
    const file = path.join(dir, 'export.jsonl');
    t = performance.now();
    const sink = createWriteStream(file);
    await exportLedger(
      {
        origin: ORIGIN,
        tenantId: TENANT,
        verifierKeys: [verifierKeyFor(ORIGIN, keys.publicKey)],
        entries: (from: number, limit: number) => reader.entries(TENANT, from, limit),
        checkpoints: (from: number, limit: number) => reader.listCheckpoints(TENANT, from, limit),
      },
      (line: string) =>
        new Promise<void>((res) => (sink.write(line) ? res() : sink.once('drain', res))),
      new Date(),
      10_000,
    );
    await new Promise<void>((res) => sink.end(res));
    const exportSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const verdict = await verifyExport(
      createInterface({ input: createReadStream(file), crlfDelay: Infinity }),
      {},
    );
    const verifySeconds = (performance.now() - t) / 1000;
    if (!verdict.ok) throw new Error(`export did not verify: ${verdict.reason}`);
    out(
      `export of ${cp.size} records                       ${exportSeconds.toFixed(2).padStart(6)} s   (${((await stat(file)).size / 1e6).toFixed(1)} MB)`,
    );
    out(
      `verify export (${cp.size} records, ${verdict.checkpoints.length} checkpoints)     ${verifySeconds.toFixed(2).padStart(6)} s`,
    );
    await rm(dir, { recursive: true, force: true });

    out(
      `\nappends ${appendRate.toFixed(0)}/s (target ≥ 5000/s) = ${(appendRate / rawRate).toFixed(2)}x raw inserts (target ≥ 0.7x); proofs ≤ ${maxBytes} bytes (bound ${bound}), verified in p99 ${pct(ver, 0.99).toFixed(1)} µs (target < 1000 µs)`,
    );
  } finally {
    await connection
      .db()
      .dropDatabase()
      .catch(() => undefined);
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
