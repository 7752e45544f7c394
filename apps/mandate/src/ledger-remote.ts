/**
 * `mandate ledger export` and `mandate ledger monitor`: the commands that talk to a running
 * audit-ledger over gRPC (LedgerService), as an operator or an outside auditor would.
 */
import { createWriteStream } from 'node:fs';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import {
  GetCheckpointResponse,
  GetConsistencyProofRequest,
  GetConsistencyProofResponse,
  LedgerServiceClient,
  ListCheckpointsRequest,
  ListCheckpointsResponse,
  ListEntriesRequest,
  ListEntriesResponse,
} from '@mandate/contracts';
import { exportLedger, LedgerMonitor, type MonitorSource } from '@mandate/ledger-domain';
import { parseFlags, required, UsageError, type LedgerIo } from './ledger-cli';

type Call<Req, Res> = (req: Req, cb: (err: ServiceError | null, res?: Res) => void) => unknown;

function client(address: string): LedgerServiceClient {
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(address))
    throw new UsageError(`--grpc must be host:port, got "${address}"`);
  return new LedgerServiceClient(address, credentials.createInsecure());
}

function call<Req, Res>(fn: Call<Req, Res>, req: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    fn(req, (err, res) => (err ? reject(new Error(err.details || err.message)) : resolve(res!))),
  );
}

/** The origin the log's latest checkpoint names (when the user did not give one). */
async function originOf(c: LedgerServiceClient, tenantId: string, given?: string) {
  if (given) return given;
  const res = await call<{ tenantId: string }, GetCheckpointResponse>(c.getCheckpoint.bind(c), {
    tenantId,
  });
  return res.checkpoint?.origin ?? '';
}

function grpcSource(c: LedgerServiceClient, tenantId: string) {
  return {
    entries: async (from: number, limit: number) =>
      (
        await call<ListEntriesRequest, ListEntriesResponse>(c.listEntries.bind(c), {
          tenantId,
          fromIndex: String(from),
          limit,
        })
      ).entries,
    checkpoints: async (fromSize: number, limit: number) =>
      (
        await call<ListCheckpointsRequest, ListCheckpointsResponse>(c.listCheckpoints.bind(c), {
          tenantId,
          fromSize: String(fromSize),
          limit,
        })
      ).checkpoints,
    consistencyProof: async (size1: number, size2: number) =>
      (
        await call<GetConsistencyProofRequest, GetConsistencyProofResponse>(
          c.getConsistencyProof.bind(c),
          {
            tenantId,
            firstTreeSize: String(size1),
            secondTreeSize: String(size2),
          },
        )
      ).proof.map((p) => Buffer.from(p)),
  };
}

/** `ledger export --grpc HOST:PORT --tenant T --out FILE [--origin O] [--key VKEY ...]`. */
export async function ledgerExport(args: string[], io: LedgerIo): Promise<number> {
  const flags = parseFlags(args, {
    '--grpc': 'one',
    '--tenant': 'one',
    '--out': 'one',
    '--origin': 'one',
    '--key': 'many',
  });
  const c = client(required(flags, '--grpc'));
  const tenantId = required(flags, '--tenant');
  const file = required(flags, '--out');
  try {
    const origin = await originOf(c, tenantId, flags.get('--origin')?.[0]);
    const sink = createWriteStream(file, { flags: 'wx' });
    const opened = new Promise<void>((resolve, reject) => {
      sink.once('open', () => resolve());
      sink.once('error', reject);
    });
    await opened.catch((err: Error) => {
      throw new UsageError(`cannot create ${file}: ${err.message}`);
    });
    const src = grpcSource(c, tenantId);
    const result = await exportLedger(
      {
        origin,
        tenantId,
        verifierKeys: flags.get('--key') ?? [],
        entries: src.entries,
        checkpoints: src.checkpoints,
      },
      (line) => new Promise<void>((res) => (sink.write(line) ? res() : sink.once('drain', res))),
    );
    await new Promise<void>((res, rej) =>
      sink.end((err?: Error | null) => (err ? rej(err) : res())),
    );
    if (result.missingFrom !== undefined) {
      io.err(
        `the log has no entry ${result.missingFrom} although a checkpoint covers it: the export is incomplete and will not verify`,
      );
      io.out(`INCOMPLETE ${file}: ${result.entries} entries, ${result.checkpoints} checkpoints`);
      return 1;
    }
    io.out(`exported ${file}: ${result.entries} entries, ${result.checkpoints} checkpoints`);
    return 0;
  } finally {
    c.close();
  }
}

/**
 * `ledger monitor --grpc HOST:PORT --tenant T --key VKEY [--origin O] [--interval-ms N] [--once]`:
 * follows the log's checkpoints; prints each alarm as a JSON line on stderr. With --once: one
 * cycle, exit 1 on any alarm; otherwise runs until interrupted.
 */
export async function ledgerMonitor(args: string[], io: LedgerIo): Promise<number> {
  const once = args.includes('--once');
  const flags = parseFlags(
    args.filter((a) => a !== '--once'),
    {
      '--grpc': 'one',
      '--tenant': 'one',
      '--key': 'many',
      '--origin': 'one',
      '--interval-ms': 'one',
    },
  );
  const c = client(required(flags, '--grpc'));
  const tenantId = required(flags, '--tenant');
  const keys = flags.get('--key');
  if (!keys?.length) throw new UsageError('missing --key (the log verifier key you trust)');
  const interval = Number(flags.get('--interval-ms')?.[0] ?? 5000);
  if (!Number.isInteger(interval) || interval < 100)
    throw new UsageError('--interval-ms must be an integer ≥ 100');
  const src = grpcSource(c, tenantId);
  const source: MonitorSource = {
    checkpoints: async (from) =>
      (await src.checkpoints(from, 1000)).map((cp) => ({
        size: Number(cp.treeSize),
        note: cp.signedNote,
      })),
    leaves: async (from, limit) =>
      (await src.entries(from, limit)).map((e) => ({
        index: Number(e.leafIndex),
        leafData: Buffer.from(e.leafData),
        leafHash: Buffer.from(e.leafHash),
      })),
    consistencyProof: src.consistencyProof,
  };
  try {
    const origin = await originOf(c, tenantId, flags.get('--origin')?.[0]);
    const monitor = new LedgerMonitor(source, { verifierKeys: keys, origin });
    let total = 0;
    for (;;) {
      const alarms = await monitor.cycle();
      total += alarms.length;
      for (const a of alarms) io.err(JSON.stringify({ alarm: a.kind, tenantId, ...a }));
      io.out(
        `${new Date().toISOString()} verified ${tenantId} up to size ${monitor.verifiedSize}; ${alarms.length} alarm(s)`,
      );
      if (once) return total ? 1 : 0;
      await new Promise((r) => setTimeout(r, interval));
    }
  } finally {
    c.close();
  }
}
