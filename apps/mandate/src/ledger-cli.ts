/**
 * `mandate ledger …`: offline checks of the audit ledger for operators and auditors — verify an
 * export file against trusted checkpoint keys, and verify single inclusion/consistency proofs.
 * Exit codes: 0 valid, 1 invalid (reason on stderr), 2 bad usage.
 *
 * Each subcommand is one entry in LEDGER_COMMANDS (usage line + async function), so adding one
 * (e.g. `export`, which needs the running service) is one function and one entry.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import {
  decodeBase64Strict,
  verifyConsistency,
  verifyExport,
  verifyInclusion,
} from '@mandate/ledger-domain';
import { ledgerExport, ledgerMonitor } from './ledger-remote';

export interface LedgerIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

export interface LedgerCommand {
  usage: string;
  run: (args: string[], io: LedgerIo) => Promise<number>;
}

/** Thrown for bad or missing flags: the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {}

export const LEDGER_COMMANDS: Record<string, LedgerCommand> = {
  verify: {
    usage: 'mandate ledger verify --export FILE [--key VKEY ...]',
    run: ledgerVerify,
  },
  'verify-inclusion': {
    usage:
      'mandate ledger verify-inclusion --leaf-index N --tree-size N --root B64 --leaf-hash B64 [--proof B64,B64,...]',
    run: ledgerVerifyInclusion,
  },
  export: {
    usage:
      'mandate ledger export --grpc HOST:PORT --tenant T --out FILE [--origin O] [--key VKEY ...]',
    run: (args, io) => ledgerExport(args, io),
  },
  monitor: {
    usage:
      'mandate ledger monitor --grpc HOST:PORT --tenant T --key VKEY [--origin O] [--interval-ms N] [--once]',
    run: (args, io) => ledgerMonitor(args, io),
  },
  'verify-consistency': {
    usage:
      'mandate ledger verify-consistency --size1 N --size2 N --root1 B64 --root2 B64 [--proof B64,B64,...]',
    run: ledgerVerifyConsistency,
  },
};

export function ledgerUsage(): string {
  return `usage:\n${Object.values(LEDGER_COMMANDS)
    .map((c) => `  ${c.usage}`)
    .join('\n')}`;
}

const stdio: LedgerIo = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
};

/** Dispatches `mandate ledger SUBCOMMAND ARGS…`; returns the exit code. */
export async function ledgerCli(
  sub: string | undefined,
  args: string[],
  io: LedgerIo = stdio,
): Promise<number> {
  if (sub === 'help' || sub === '--help' || sub === '-h') {
    io.out(ledgerUsage());
    return 0;
  }
  const command =
    sub !== undefined && Object.hasOwn(LEDGER_COMMANDS, sub) ? LEDGER_COMMANDS[sub] : undefined;
  if (!command) {
    io.err(
      `${sub ? `unknown ledger command "${sub}"` : 'missing ledger command'}\n${ledgerUsage()}`,
    );
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\nusage: ${command.usage}`);
      return 2;
    }
    throw err;
  }
}

/** `ledger verify --export FILE [--key VKEY ...]`: streams and verifies an export file. */
export async function ledgerVerify(args: string[], io: LedgerIo): Promise<number> {
  const flags = parseFlags(args, { '--export': 'one', '--key': 'many' });
  const file = required(flags, '--export');
  const keys = flags.get('--key');
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
  } catch (err) {
    throw new UsageError(
      `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let verdict: Awaited<ReturnType<typeof verifyExport>>;
  try {
    verdict = await verifyExport(lines, keys ? { verifierKeys: keys } : {});
  } finally {
    lines.close();
  }
  if (!verdict.ok) {
    const at =
      verdict.firstBadIndex !== undefined ? ` (first bad index ${verdict.firstBadIndex})` : '';
    io.err(`invalid: ${verdict.reason}${at}`);
    io.out(
      `INVALID ${file}${verdict.firstBadIndex !== undefined ? `: first bad index ${verdict.firstBadIndex}` : ''}`,
    );
    return 1;
  }
  if (!keys) {
    io.err(
      "warning: checkpoints were checked with the export's own header keys; pass --key with the " +
        "log's verifier key from a trusted source",
    );
  }
  io.out(
    `OK ${file}: tenant ${verdict.tenantId}, origin ${verdict.origin}, ${verdict.size} entries, ` +
      `${verdict.checkpoints.length} checkpoints, root ${verdict.rootHash}`,
  );
  return 0;
}

/** `ledger verify-inclusion …`: checks one RFC 9162 inclusion proof. */
export async function ledgerVerifyInclusion(args: string[], io: LedgerIo): Promise<number> {
  const flags = parseFlags(args, {
    '--leaf-index': 'one',
    '--tree-size': 'one',
    '--root': 'one',
    '--leaf-hash': 'one',
    '--proof': 'one',
  });
  const verdict = verifyInclusion(
    uint(flags, '--leaf-index'),
    uint(flags, '--tree-size'),
    hash(flags, '--leaf-hash'),
    proof(flags),
    hash(flags, '--root'),
  );
  return report(verdict, 'inclusion proof', io);
}

/** `ledger verify-consistency …`: checks one RFC 9162 consistency proof. */
export async function ledgerVerifyConsistency(args: string[], io: LedgerIo): Promise<number> {
  const flags = parseFlags(args, {
    '--size1': 'one',
    '--size2': 'one',
    '--root1': 'one',
    '--root2': 'one',
    '--proof': 'one',
  });
  const verdict = verifyConsistency(
    uint(flags, '--size1'),
    uint(flags, '--size2'),
    hash(flags, '--root1'),
    hash(flags, '--root2'),
    proof(flags),
  );
  return report(verdict, 'consistency proof', io);
}

function report(verdict: { ok: boolean; reason?: string }, what: string, io: LedgerIo): number {
  if (verdict.ok) {
    io.out(`OK ${what} verifies`);
    return 0;
  }
  io.err(`invalid: ${verdict.reason}`);
  io.out(`INVALID ${what}`);
  return 1;
}

export type Flags = Map<string, string[]>;

/** `--name value` / `--name=value` flags; unknown, repeated single or valueless flags throw. */
export function parseFlags(args: string[], spec: Record<string, 'one' | 'many'>): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (!Object.hasOwn(spec, name)) {
      throw new UsageError(`unknown argument "${arg}"`);
    }
    let value: string | undefined;
    if (name !== arg) value = arg.slice(eq + 1);
    else {
      value = args[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new UsageError(`${name} needs a value`);
      }
      i++;
    }
    const values = flags.get(name) ?? [];
    if (spec[name] === 'one' && values.length) throw new UsageError(`${name} given twice`);
    flags.set(name, [...values, value]);
  }
  return flags;
}

export function required(flags: Flags, name: string): string {
  const v = flags.get(name)?.[0];
  if (v === undefined) throw new UsageError(`missing ${name}`);
  return v;
}

function uint(flags: Flags, name: string): bigint {
  const v = required(flags, name);
  if (!/^(0|[1-9][0-9]*)$/.test(v) || BigInt(v) >= 1n << 64n) {
    throw new UsageError(`${name} must be a non-negative integer, got "${v}"`);
  }
  return BigInt(v);
}

function b64(value: string, name: string): Buffer {
  const bytes = decodeBase64Strict(value.trim());
  if (!bytes) throw new UsageError(`${name} must be standard base64, got "${value}"`);
  return bytes;
}

function hash(flags: Flags, name: string): Buffer {
  return b64(required(flags, name), name);
}

/** Comma-separated base64 hashes; absent or empty means an empty proof. */
function proof(flags: Flags): Buffer[] {
  const v = flags.get('--proof')?.[0] ?? '';
  return v.trim() === '' ? [] : v.split(',').map((h) => b64(h, '--proof'));
}
