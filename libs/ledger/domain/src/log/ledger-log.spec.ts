import { randomBytes } from 'node:crypto';
import { AuditEntry, AuditKind, AuditRecord } from '@mandate/contracts';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { generateNoteSigner, signCheckpoint } from '../checkpoint';
import { leafHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../merkle';
import { LedgerMonitor, type MonitorSource } from '../monitor';
import { LEDGER_SUBJECT_KEYS, PayloadCipher, SubjectKeyStore } from '../shredding';
import { verifyExport } from '../verify';
import { exportLedger } from './ledger-export';
import { LEDGER_PUBLICATION, LedgerPublisher } from './ledger-publisher';
import { LedgerReader } from './ledger-reader';
import {
  checkpointDocId,
  LEDGER_CHECKPOINTS,
  LEDGER_LEAVES,
  leafDocId,
  LedgerWriter,
} from './ledger-writer';
import { LEDGER_TILES } from './tiles';

const T = tenantId('acme');
const ORIGIN = 'test.mandate/ledger/acme';

function record(i: number, extra: Partial<AuditRecord> = {}): AuditRecord {
  return AuditRecord.fromPartial({
    recordId: `r-${i}`,
    tenantId: 'acme',
    correlationId: `c-${Math.floor(i / 5)}`,
    kind: AuditKind.AUDIT_KIND_DECISION,
    actor: 'policy',
    subject: { objectType: 'lead', recordId: `lead-${Math.floor(i / 5)}` },
    occurredAt: '2025-01-15T10:00:00.000Z',
    summary: `step ${i}`,
    ...extra,
  });
}

function setup() {
  const leaves = new InMemoryDocumentStore(LEDGER_LEAVES);
  const tiles = new InMemoryDocumentStore(LEDGER_TILES);
  const checkpoints = new InMemoryDocumentStore(LEDGER_CHECKPOINTS);
  const publication = new InMemoryDocumentStore(LEDGER_PUBLICATION);
  const keys = new SubjectKeyStore(new InMemoryDocumentStore(LEDGER_SUBJECT_KEYS), {
    keks: [{ id: 'k1', key: randomBytes(32) }],
  });
  const { signer } = generateNoteSigner('test.mandate/ledger');
  const newWriter = () =>
    new LedgerWriter({
      leaves,
      tiles,
      checkpoints,
      signer,
      origin: () => ORIGIN,
      cipher: new PayloadCipher(keys),
    });
  const reader = new LedgerReader(leaves, tiles, checkpoints, () => ORIGIN);
  const source: MonitorSource = {
    checkpoints: async (from) =>
      (await reader.listCheckpoints(T, from)).map((c) => ({
        size: Number(c.treeSize),
        note: c.signedNote,
      })),
    leaves: async (from, limit) =>
      (await reader.entries(T, from, limit)).map((e) => ({
        index: Number(e.leafIndex),
        leafData: Buffer.from(e.leafData),
        leafHash: Buffer.from(e.leafHash),
      })),
    consistencyProof: (a, b) => reader.consistencyProof(T, a, b),
  };
  const monitor = () =>
    new LedgerMonitor(source, { verifierKeys: [signer.verifierKey], origin: ORIGIN });
  return { leaves, tiles, checkpoints, publication, keys, signer, newWriter, reader, monitor };
}

async function fill(writer: LedgerWriter, n: number, batch = 97) {
  for (let i = 0; i < n; i += batch)
    await writer.appendBatch(
      T,
      Array.from({ length: Math.min(batch, n - i) }, (_, k) => record(i + k)),
    );
}

async function exportText(reader: LedgerReader, verifierKey: string): Promise<string[]> {
  const lines: string[] = [];
  await exportLedger(
    {
      origin: ORIGIN,
      tenantId: 'acme',
      verifierKeys: [verifierKey],
      entries: (from, limit) => reader.entries(T, from, limit),
      checkpoints: (from, limit) => reader.listCheckpoints(T, from, limit),
    },
    async (line) => {
      lines.push(line.replace(/\n$/, ''));
    },
  );
  return lines;
}

describe('the ledger log', () => {
  it('appends gap-free and idempotently, and signs checkpoints whose roots are the RFC 9162 roots', async () => {
    const { newWriter, reader, leaves, signer } = setup();
    const writer = newWriter();
    await fill(writer, 600);
    const cp1 = (await writer.checkpoint(T))!;
    // A redelivered batch (with new records mixed in) adds only the new ones.
    const again = await writer.appendBatch(T, [record(5), record(599), record(600), record(600)]);
    expect(again.appended.map((l) => l.index)).toEqual([600]);
    expect(again.existing).toBe(3);
    await fill(writer, 0);
    const cp2 = (await writer.checkpoint(T))!;
    expect(await writer.checkpoint(T)).toBeUndefined(); // nothing new

    const all = await leaves.find(T, {}, { sort: { index: 1 }, limit: 1000 });
    expect(all.map((l) => l.index)).toEqual(Array.from({ length: 601 }, (_, i) => i));
    const hashes = all.map((l) => Buffer.from(l.leafHash, 'base64'));
    expect(cp1.size).toBe(600);
    expect(Buffer.from(cp1.rootHash, 'base64')).toEqual(rootFromLeafHashes(hashes.slice(0, 600)));
    expect(Buffer.from(cp2.rootHash, 'base64')).toEqual(rootFromLeafHashes(hashes));
    expect(cp2.note).toContain(`${ORIGIN}\n601\n${cp2.rootHash}\n`);
    expect(cp2.note).toContain(`— ${signer.name} `);
    // Leaf hashes cover the stored bytes.
    for (const l of all.slice(0, 5))
      expect(leafHash(Buffer.from(l.record, 'base64')).toString('base64')).toBe(l.leafHash);

    // Proofs from the tiles verify against the signed roots.
    const root2 = Buffer.from(cp2.rootHash, 'base64');
    for (const i of [0, 1, 255, 256, 599, 600]) {
      const proof = await reader.inclusionProof(T, i, 601);
      expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(601)));
      expect(verifyInclusion(i, 601, hashes[i], proof, root2)).toEqual({ ok: true });
    }
    const consistency = await reader.consistencyProof(T, 600, 601);
    expect(
      verifyConsistency(600, 601, Buffer.from(cp1.rootHash, 'base64'), root2, consistency),
    ).toEqual({ ok: true });
  });

  it('answers causal chains by correlation id and by CRM record, each entry proven', async () => {
    const { newWriter, reader } = setup();
    const writer = newWriter();
    await fill(writer, 40);
    const cp = (await writer.checkpoint(T))!;
    await fill(writer, 0);
    await writer.appendBatch(T, [record(40, { correlationId: 'c-1' })]); // after the checkpoint
    const chain = await reader.causalChain(T, { correlationId: 'c-1' });
    expect(chain.entries.map((e) => e.entry!.leafIndex)).toEqual(['5', '6', '7', '8', '9']);
    const root = Buffer.from(cp.rootHash, 'base64');
    for (const e of chain.entries)
      expect(
        verifyInclusion(Number(e.entry!.leafIndex), cp.size, e.entry!.leafHash, e.auditPath, root),
      ).toEqual({ ok: true });
    const bySubject = await reader.causalChain(T, { subjectKey: 'lead/lead-2' });
    expect(bySubject.entries.map((e) => e.entry!.record!.recordId)).toEqual([
      'r-10',
      'r-11',
      'r-12',
      'r-13',
      'r-14',
    ]);
  });

  it('recovers from a crash between the leaf write and the tile write: no gap, no duplicate', async () => {
    const { newWriter, reader, tiles, leaves } = setup();
    await fill(newWriter(), 300);
    // The next batch's leaves are written, then the process dies before its tiles.
    const crashing = newWriter();
    const realInsertMany = tiles.insertMany.bind(tiles);
    tiles.insertMany = async () => {
      throw new Error('killed');
    };
    const batch = Array.from({ length: 50 }, (_, k) => record(300 + k));
    await expect(crashing.appendBatch(T, batch)).rejects.toThrow('killed');
    tiles.insertMany = realInsertMany;
    // After the restart the batch is redelivered.
    const restarted = newWriter();
    const result = await restarted.appendBatch(T, batch);
    expect(result.appended).toEqual([]);
    expect(result.existing).toBe(50);
    await fill(restarted, 0);
    await restarted.appendBatch(T, [record(350)]);
    const cp = (await restarted.checkpoint(T))!;
    const all = await leaves.find(T, {}, { sort: { index: 1 }, limit: 1000 });
    expect(all.map((l) => l.index)).toEqual(Array.from({ length: 351 }, (_, i) => i));
    expect(new Set(all.map((l) => l.recordId)).size).toBe(351);
    expect(Buffer.from(cp.rootHash, 'base64')).toEqual(
      rootFromLeafHashes(all.map((l) => Buffer.from(l.leafHash, 'base64'))),
    );
    const proof = await reader.inclusionProof(T, 320, 351);
    expect(
      verifyInclusion(
        320,
        351,
        Buffer.from(all[320].leafHash, 'base64'),
        proof,
        Buffer.from(cp.rootHash, 'base64'),
      ),
    ).toEqual({ ok: true });
  });

  it('publishes every entry once a checkpoint covers it, resuming after a failure', async () => {
    const { newWriter, reader, publication } = setup();
    const writer = newWriter();
    await fill(writer, 25);
    const cp = (await writer.checkpoint(T))!;
    const got: AuditEntry[] = [];
    let fail = true;
    const publisher = new LedgerPublisher(
      reader,
      publication,
      async (_t, entries) => {
        if (fail && got.length >= 10) {
          fail = false;
          throw new Error('broker down');
        }
        got.push(...entries);
      },
      10,
    );
    await expect(publisher.publishUpTo(T, cp)).rejects.toThrow('broker down');
    expect(await publisher.publishUpTo(T, cp)).toBe(15);
    expect(got.map((e) => Number(e.leafIndex))).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(got.every((e) => e.checkpoint?.treeSize === '25' && e.checkpoint.signedNote)).toBe(true);
    expect(await publisher.publishUpTo(T, cp)).toBe(0);
  });

  it('encrypts personal payloads, and after erasure they are unreadable while the log still verifies', async () => {
    const { newWriter, reader, keys, signer } = setup();
    const writer = newWriter();
    const secret = Buffer.from('{"name":"Dana Whitfield","email":"dana@example.com"}');
    await writer.appendBatch(T, [
      record(0, { payload: secret, payloadType: 'test', dataSubjectId: 'lead/lead-0' }),
      record(1),
    ]);
    await writer.checkpoint(T);
    const [stored] = await reader.entries(T, 0, 1);
    expect(stored.record!.payloadEncryption).toBe('A256GCM/v1');
    expect(Buffer.from(stored.leafData).includes(Buffer.from('Dana'))).toBe(false);
    const cipher = new PayloadCipher(keys);
    expect(await cipher.open(T, stored.record!)).toEqual({ payload: secret });

    expect(await keys.erase(T, 'lead/lead-0')).toBe(true);
    expect(await cipher.open(T, stored.record!)).toEqual({ erased: true });
    const lines = await exportText(reader, signer.verifierKey);
    expect(await verifyExport(lines, { verifierKeys: [signer.verifierKey] })).toEqual(
      expect.objectContaining({ ok: true, size: 2 }),
    );
  });
});

describe('tampering with the stored log', () => {
  async function tampered(tamper: (s: ReturnType<typeof setup>) => Promise<void>) {
    const s = setup();
    const writer = s.newWriter();
    await fill(writer, 120);
    await writer.checkpoint(T);
    await fill(writer, 0);
    await writer.appendBatch(
      T,
      Array.from({ length: 30 }, (_, k) => record(120 + k)),
    );
    await writer.checkpoint(T);
    const monitor = s.monitor();
    expect(await monitor.cycle()).toEqual([]); // clean before the tamper
    expect(monitor.verifiedSize).toBe(150);
    await tamper(s);
    const verdict = await verifyExport(await exportText(s.reader, s.signer.verifierKey), {
      verifierKeys: [s.signer.verifierKey],
    });
    const alarms = await monitor.cycle();
    return { verdict, alarms };
  }
  const editRecord = async (s: ReturnType<typeof setup>, index: number, summary: string) => {
    const leaf = (await s.leaves.get(T, leafDocId(index)))!;
    const r = AuditRecord.decode(Buffer.from(leaf.record, 'base64'));
    await s.leaves.update(T, leafDocId(index), {
      set: {
        record: Buffer.from(AuditRecord.encode({ ...r, summary }).finish()).toString('base64'),
      },
    });
  };

  it('detects an edited record', async () => {
    const { verdict, alarms } = await tampered((s) => editRecord(s, 42, 'nothing happened'));
    expect(verdict).toEqual(expect.objectContaining({ ok: false, firstBadIndex: 42 }));
    expect(alarms).toEqual([expect.objectContaining({ kind: 'leaf_hash', index: 42 })]);
  });

  it('detects a record edited together with its stored leaf hash', async () => {
    const { verdict, alarms } = await tampered(async (s) => {
      await editRecord(s, 7, 'rewritten');
      const leaf = (await s.leaves.get(T, leafDocId(7)))!;
      await s.leaves.update(T, leafDocId(7), {
        set: { leafHash: leafHash(Buffer.from(leaf.record, 'base64')).toString('base64') },
      });
    });
    expect(verdict.ok).toBe(false);
    expect(alarms.map((a) => a.kind)).toContain('root_mismatch');
  });

  it('detects a deleted record', async () => {
    const { verdict, alarms } = await tampered(async (s) => {
      await s.leaves.delete(T, leafDocId(60));
    });
    expect(verdict).toEqual(expect.objectContaining({ ok: false, firstBadIndex: 60 }));
    expect(alarms).toEqual([expect.objectContaining({ kind: 'missing_leaf', index: 60 })]);
  });

  it('detects two records swapped', async () => {
    const { verdict, alarms } = await tampered(async (s) => {
      const a = (await s.leaves.get(T, leafDocId(30)))!;
      const b = (await s.leaves.get(T, leafDocId(31)))!;
      await s.leaves.update(T, leafDocId(30), { set: { record: b.record, leafHash: b.leafHash } });
      await s.leaves.update(T, leafDocId(31), { set: { record: a.record, leafHash: a.leafHash } });
    });
    expect(verdict.ok).toBe(false);
    expect(alarms.map((a) => a.kind)).toContain('root_mismatch');
  });

  it('detects a truncated log', async () => {
    const { verdict, alarms } = await tampered(async (s) => {
      for (let i = 140; i < 150; i++) await s.leaves.delete(T, leafDocId(i));
    });
    expect(verdict.ok).toBe(false);
    expect(alarms).toEqual([expect.objectContaining({ kind: 'missing_leaf', index: 140 })]);
  });

  it('detects a forked checkpoint (validly signed, another root)', async () => {
    const { verdict, alarms } = await tampered(async (s) => {
      const note = signCheckpoint({ origin: ORIGIN, size: 150, rootHash: randomBytes(32) }, [
        s.signer,
      ]);
      await s.checkpoints.update(T, checkpointDocId(150), { set: { note } });
    });
    expect(verdict.ok).toBe(false);
    expect(alarms).toEqual([expect.objectContaining({ kind: 'fork', size: 150 })]);
  });
});
