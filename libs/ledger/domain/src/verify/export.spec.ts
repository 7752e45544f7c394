/**
 * The export verifier on generated exports: a valid export verifies; every tamper is detected,
 * with the first bad index where there is one.
 */
import { randomBytes } from 'node:crypto';
import { generateNoteSigner, signCheckpoint } from '../checkpoint';
import { leafHash } from '../merkle';
import { EXPORT_FORMAT, exportCheckpointLine, generateExport, verifyExport } from './export';

const ORIGIN = 'mandate.example/ledger/acme';
const { signer } = generateNoteSigner(ORIGIN);

async function collect(gen: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of gen) out.push(l);
  return out;
}

function records(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    Buffer.concat([
      Buffer.from([0x0a, 0x08]),
      Buffer.from(`rec-${i}`.padEnd(8, '-')),
      randomBytes(24),
    ]),
  );
}

async function exportOf(n: number, every = 10, signers = [signer]): Promise<string[]> {
  return collect(
    generateExport({
      origin: ORIGIN,
      tenantId: 'acme',
      signers,
      records: records(n),
      checkpointEvery: every,
    }),
  );
}

const entryAt = (lines: string[], index: number) =>
  lines.findIndex((l) => l.includes('"type":"entry"') && JSON.parse(l).index === index);

function mutateEntry(
  lines: string[],
  index: number,
  f: (e: Record<string, unknown>) => void,
): string[] {
  const copy = [...lines];
  const at = entryAt(copy, index);
  const e = JSON.parse(copy[at]) as Record<string, unknown>;
  f(e);
  copy[at] = `${JSON.stringify(e)}\n`;
  return copy;
}

const flipRecordByte = (e: Record<string, unknown>) => {
  const bytes = Buffer.from(e['record'] as string, 'base64');
  bytes[3] ^= 0x01;
  e['record'] = bytes.toString('base64');
};

describe('verifyExport', () => {
  let valid: string[];
  beforeAll(async () => {
    valid = await exportOf(100);
  });

  it('accepts a valid export and reports its size and checkpoints', async () => {
    expect(JSON.parse(valid[0])).toMatchObject({
      type: 'header',
      format: EXPORT_FORMAT,
      origin: ORIGIN,
    });
    const v = await verifyExport(valid);
    expect(v).toMatchObject({ ok: true, size: 100, origin: ORIGIN, tenantId: 'acme' });
    expect(v.ok && v.checkpoints.map((c) => c.size)).toEqual([
      10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
    ]);
    expect(v.ok && v.checkpoints[0].signers).toEqual([
      signer.verifierKey.split('+').slice(0, 2).join('+'),
    ]);
    expect(await verifyExport(valid, { verifierKeys: [signer.verifierKey] })).toMatchObject({
      ok: true,
    });
  });

  it('accepts an empty log with a size-0 checkpoint and CRLF line endings', async () => {
    expect(await verifyExport(await exportOf(0))).toMatchObject({ ok: true, size: 0 });
    expect(await verifyExport(valid.map((l) => l.replace(/\n$/, '\r\n')))).toMatchObject({
      ok: true,
    });
  });

  it('detects an edited record byte at its index', async () => {
    const v = await verifyExport(mutateEntry(valid, 37, flipRecordByte));
    expect(v).toMatchObject({ ok: false, firstBadIndex: 37 });
    expect(v.ok ? '' : v.reason).toMatch(/entry 37: leaf hash does not match the record bytes/);
  });

  it('detects an edited record with a recomputed leaf hash at the next checkpoint', async () => {
    const tampered = mutateEntry(valid, 37, (e) => {
      flipRecordByte(e);
      e['leafHash'] = leafHash(Buffer.from(e['record'] as string, 'base64')).toString('base64');
    });
    const v = await verifyExport(tampered);
    expect(v.ok).toBe(false);
    expect(v.ok ? '' : v.reason).toMatch(/checkpoint for size 40 .* entries 30\.\.39 were altered/);
  });

  it('detects a deleted entry', async () => {
    const tampered = [...valid];
    tampered.splice(entryAt(valid, 37), 1);
    const v = await verifyExport(tampered);
    expect(v).toMatchObject({ ok: false, firstBadIndex: 37 });
    expect(v.ok ? '' : v.reason).toMatch(/entry 37 is missing or out of order \(found entry 38\)/);
  });

  it('detects two reordered entries', async () => {
    const tampered = [...valid];
    const a = entryAt(valid, 37);
    [tampered[a], tampered[a + 1]] = [tampered[a + 1], tampered[a]];
    const v = await verifyExport(tampered);
    expect(v).toMatchObject({ ok: false, firstBadIndex: 37 });
  });

  it('detects a duplicated entry', async () => {
    const tampered = [...valid];
    tampered.splice(entryAt(valid, 37) + 1, 0, valid[entryAt(valid, 37)]);
    const v = await verifyExport(tampered);
    expect(v).toMatchObject({ ok: false, firstBadIndex: 38 });
    expect(v.ok ? '' : v.reason).toMatch(/entry 37 is duplicated/);
  });

  it('detects truncation: a checkpoint larger than the entries before it', async () => {
    const tampered = valid.filter((l, i) => i < entryAt(valid, 90) || l.includes('"checkpoint"'));
    const v = await verifyExport(tampered);
    expect(v).toMatchObject({ ok: false, firstBadIndex: 90 });
    expect(v.ok ? '' : v.reason).toMatch(/checkpoint for size 100 but only 90 entries .*truncated/);
  });

  it('detects entries not covered by any checkpoint (cut before the last checkpoint)', async () => {
    const v = await verifyExport(valid.slice(0, entryAt(valid, 95)));
    expect(v).toMatchObject({ ok: false, firstBadIndex: 90 });
    expect(v.ok ? '' : v.reason).toMatch(/entries 90\.\.94 are not covered/);
  });

  it('detects a forked checkpoint: validly signed, different root', async () => {
    const fork = exportCheckpointLine(
      signCheckpoint({ origin: ORIGIN, size: 50, rootHash: randomBytes(32) }, [signer]),
    );
    const tampered = valid.map((l) =>
      l.includes('"checkpoint"') && l.includes('\\n50\\n') ? fork : l,
    );
    expect(tampered).not.toEqual(valid);
    const v = await verifyExport(tampered);
    expect(v).toMatchObject({ ok: false });
    expect(v.ok ? 'x' : v.firstBadIndex).toBeUndefined();
    expect(v.ok ? '' : v.reason).toMatch(/checkpoint for size 50 has root .* forked/);
  });

  it('detects a tampered checkpoint note and a checkpoint for another log', async () => {
    const at = valid.findIndex((l) => l.includes('\\n20\\n'));
    const edited = [...valid];
    edited[at] = valid[at].replace('\\n20\\n', '\\n21\\n');
    const v = await verifyExport(edited);
    expect(v.ok ? '' : v.reason).toMatch(/invalid signature/);
    const other = generateNoteSigner('other.example/log').signer;
    const foreign = [...valid];
    foreign[at] = exportCheckpointLine(
      signCheckpoint({ origin: 'other.example/log', size: 20, rootHash: randomBytes(32) }, [other]),
    );
    const w = await verifyExport(foreign, {
      verifierKeys: [signer.verifierKey, other.verifierKey],
    });
    expect(w.ok ? '' : w.reason).toMatch(/origin/);
  });

  it("trusts the auditor's keys over the header's: a re-signed export is rejected", async () => {
    const { signer: forger } = generateNoteSigner(ORIGIN);
    const forged = await exportOf(30, 10, [forger]);
    expect((await verifyExport(forged)).ok).toBe(true); // self-consistent with its own header keys
    const v = await verifyExport(forged, { verifierKeys: [signer.verifierKey] });
    expect(v).toMatchObject({ ok: false });
    expect(v.ok ? '' : v.reason).toMatch(/no verifiable signatures/);
  });

  it('accepts checkpoints across a key rotation with both keys trusted', async () => {
    const { signer: next } = generateNoteSigner(ORIGIN);
    const a = await exportOf(20, 10, [signer]);
    const b = await exportOf(20, 10, [signer, next]);
    expect((await verifyExport(a, { verifierKeys: [next.verifierKey] })).ok).toBe(false);
    expect((await verifyExport(b, { verifierKeys: [next.verifierKey] })).ok).toBe(true);
    expect(
      (await verifyExport(a, { verifierKeys: [signer.verifierKey, next.verifierKey] })).ok,
    ).toBe(true);
  });

  it('rejects malformed exports', async () => {
    const cases: [string[], RegExp][] = [
      [[], /empty export/],
      [valid.slice(1), /first line must be the header/],
      [
        [valid[0].replace(EXPORT_FORMAT, 'other/v9'), ...valid.slice(1)],
        /unsupported export format/,
      ],
      [[valid[0], valid[0], ...valid.slice(1)], /unknown line type "header"|header/],
      [[valid[0], '{not json\n', ...valid.slice(1)], /not a JSON object/],
      [[valid[0]], /no checkpoint/],
      [mutateEntry(valid, 3, (e) => (e['record'] = 'AA=A')), /not canonical base64/],
    ];
    for (const [lines, reason] of cases) {
      const v = await verifyExport(lines);
      expect(v.ok ? '' : v.reason).toMatch(reason);
    }
  });

  it('verifies 120,000 entries quickly while streaming', async () => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const n = 120_000;
    const lines = generateExport({
      origin: ORIGIN,
      tenantId: 'acme',
      signers: [signer],
      checkpointEvery: 10_000,
      records: (function* () {
        const base = randomBytes(48);
        for (let i = 0; i < n; i++) {
          base.writeUInt32BE(i, 0);
          yield base;
        }
      })(),
    });
    const all: string[] = [];
    for await (const l of lines) all.push(l);
    async function* stream() {
      yield* all;
    }
    const start = Date.now();
    const v = await verifyExport(stream(), { verifierKeys: [signer.verifierKey] });
    const ms = Date.now() - start;
    expect(v).toMatchObject({ ok: true, size: n });
    expect(v.ok && v.checkpoints).toHaveLength(12);
    log(`verifyExport: ${n} entries in ${ms} ms`);
    expect(ms).toBeLessThan(10_000); // typically 1-2 s; generous for slow CI machines
  });
});
