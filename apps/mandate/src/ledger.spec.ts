import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  AuditKind,
  GetCausalChainResponse,
  LedgerServiceClient,
  type GetCausalChainRequest,
} from '@mandate/contracts';
import { PayloadCipher, SubjectKeyStore, verifyInclusion } from '@mandate/ledger-domain';
import { createLogger, generateApiToken } from '@mandate/platform';
import { DEMO_TENANT, EmbeddedMandate, runDemo, startEmbedded } from './embedded';
import { ledgerCli, type LedgerIo } from './ledger-cli';
import { waitFor } from './testing/wait-for';

/**
 * The audit ledger end to end on the embedded process: signed checkpoints, causal chains with
 * proofs over gRPC, `mandate ledger export | verify | monitor` against the live service, and
 * crypto-shredding through the operator API.
 */
const officer = { id: 'dpo-1', roles: ['privacy-officer'], ...generateApiToken() };
const admin = { id: 'admin-1', roles: ['policy-admin'], ...generateApiToken() };

function capture(): LedgerIo & { text: () => string } {
  const lines: string[] = [];
  return { out: (s) => lines.push(s), err: (s) => lines.push(s), text: () => lines.join('\n') };
}

describe('audit ledger (embedded)', () => {
  let m: EmbeddedMandate;
  let dir: string;
  let client: LedgerServiceClient;

  beforeAll(async () => {
    m = await startEmbedded({
      logger: createLogger('mandate-test', 'silent'),
      httpPort: 0,
      grpcPort: 0,
      apiTokens: [officer, admin].map(({ id, roles, sha256 }) => ({ id, roles, sha256 })),
    });
    await runDemo(m);
    dir = await mkdtemp(path.join(tmpdir(), 'ledger-'));
    client = new LedgerServiceClient(`127.0.0.1:${m.grpcPort}`, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await m.close();
    await rm(dir, { recursive: true, force: true });
  });

  const chain = (req: GetCausalChainRequest) =>
    new Promise<GetCausalChainResponse>((resolve, reject) =>
      client.getCausalChain(req, (err, res) => (err ? reject(err) : resolve(res))),
    );

  it('explains a lead: its causal chain, each step with an inclusion proof to a signed checkpoint', async () => {
    const res = await waitFor('a checkpoint covering the demo', async () => {
      const r = await chain({
        tenantId: DEMO_TENANT,
        key: { $case: 'record', value: { objectType: 'lead', recordId: 'lead-0001' } },
      });
      return r.entries.length >= 5 ? r : undefined;
    });
    const kinds = res.entries.map((e) => AuditKind[e.entry!.record!.kind]);
    expect(kinds.slice(0, 4)).toEqual([
      'AUDIT_KIND_CRM_CHANGE',
      'AUDIT_KIND_CONTEXT_PREPARED',
      'AUDIT_KIND_PROPOSAL',
      'AUDIT_KIND_DECISION',
    ]);
    const size = Number(res.checkpoint!.treeSize);
    expect(res.checkpoint!.signedNote).toContain(`\n${size}\n`);
    for (const e of res.entries)
      expect(
        verifyInclusion(
          Number(e.entry!.leafIndex),
          size,
          e.entry!.leafHash,
          e.auditPath,
          res.checkpoint!.rootHash,
        ),
      ).toEqual({ ok: true });
  });

  it('exports the log over gRPC, and the export and the live log verify with the trusted key', async () => {
    const file = path.join(dir, 'acme.jsonl');
    const io = capture();
    const grpc = `127.0.0.1:${m.grpcPort}`;
    expect(
      await ledgerCli(
        'export',
        ['--grpc', grpc, '--tenant', DEMO_TENANT, '--out', file, '--key', m.ledgerVerifierKey],
        io,
      ),
    ).toBe(0);
    expect(io.text()).toMatch(/exported .* \d+ entries, \d+ checkpoints/);
    const verify = capture();
    expect(
      await ledgerCli('verify', ['--export', file, '--key', m.ledgerVerifierKey], verify),
    ).toBe(0);
    expect(verify.text()).toMatch(/^OK /m);
    // Another key (an impostor's checkpoints) does not verify.
    const other = capture();
    expect(
      await ledgerCli(
        'verify',
        ['--export', file, '--key', 'other+00000000+AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB'],
        other,
      ),
    ).toBe(1);
    const monitor = capture();
    expect(
      await ledgerCli(
        'monitor',
        ['--grpc', grpc, '--tenant', DEMO_TENANT, '--key', m.ledgerVerifierKey, '--once'],
        monitor,
      ),
    ).toBe(0);
    expect(monitor.text()).toMatch(/verified acme up to size \d+; 0 alarm/);
  });

  it('erases a data subject: their CRM snapshot is unreadable, the receipt is logged, the log still verifies', async () => {
    const entries = await m.ledger.entries(DEMO_TENANT, 0, 1000);
    const change = entries.find(
      (e) =>
        e.record!.kind === AuditKind.AUDIT_KIND_CRM_CHANGE &&
        e.record!.subject?.recordId === 'lead-0001',
    )!;
    expect(change.record!.dataSubjectId).toBe('lead/lead-0001');
    expect(change.record!.payloadEncryption).toBe('A256GCM/v1');
    expect(Buffer.from(change.leafData).includes(Buffer.from('Whitfield'))).toBe(false);
    const keys = m.app.get(SubjectKeyStore);
    const cipher = new PayloadCipher(keys);
    const before = await cipher.open(DEMO_TENANT, change.record!);
    expect('payload' in before && before.payload.includes(Buffer.from('Whitfield'))).toBe(true);

    const erase = (token: string, body: unknown) =>
      fetch(`http://127.0.0.1:${m.httpPort}/v1/tenants/acme/ledger/erasures`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const body = { dataSubjectId: 'lead/lead-0001', reasonCode: 'gdpr_art17', requestId: 'req-1' };
    expect((await erase(admin.token, body)).status).toBe(403); // not a privacy officer
    expect((await erase(officer.token, { ...body, reasonCode: 'Because!' })).status).toBe(400);
    const res = await erase(officer.token, body);
    expect(res.status).toBe(202);
    const { recordId } = (await res.json()) as { recordId: string };

    expect(await cipher.open(DEMO_TENANT, change.record!)).toEqual({ erased: true });
    const receipt = await waitFor('the erasure receipt', async () => {
      const all = await m.ledger.entries(DEMO_TENANT, 0, 1000);
      return all.find((e) => e.record!.recordId === recordId);
    });
    expect(receipt.record!.kind).toBe(AuditKind.AUDIT_KIND_ERASURE);
    expect(receipt.record!.summary).not.toMatch(/Whitfield|@/);

    // The log, with the shredded entry unchanged, still verifies end to end.
    await waitFor('a checkpoint covering the receipt', async () => {
      const cp = await m.ledger.latestCheckpoint(DEMO_TENANT);
      return cp && cp.size > Number(receipt.leafIndex) ? cp : undefined;
    });
    const file = path.join(dir, 'after-erasure.jsonl');
    const grpc = `127.0.0.1:${m.grpcPort}`;
    expect(
      await ledgerCli(
        'export',
        ['--grpc', grpc, '--tenant', DEMO_TENANT, '--out', file],
        capture(),
      ),
    ).toBe(0);
    expect(
      await ledgerCli('verify', ['--export', file, '--key', m.ledgerVerifierKey], capture()),
    ).toBe(0);
    expect((await readFile(file, 'utf8')).includes('Whitfield')).toBe(false);
  });
});
