/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed-note body that commits a
 * log to its Merkle tree head — origin line, decimal tree size line, base64 root hash line and
 * optional non-empty extension lines, each ending in "\n".
 */
import { decodeBase64Strict, hasControlCharacter } from './base64';
import {
  signNote,
  verifyNote,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifierKey,
} from './note';

export interface Checkpoint {
  /** Unique identity of the log (by convention a schema-less URL, e.g. "mandate.example/acme"). */
  origin: string;
  /** Number of leaves. */
  size: number;
  /** 32-byte RFC 9162 root hash at `size`. */
  rootHash: Buffer;
  /** Optional extension lines (without "\n"); NOT RECOMMENDED by the spec, kept when parsing. */
  extensions?: string[];
}

export type CheckpointVerdict =
  { ok: true; checkpoint: Checkpoint; signers: NoteSignature[] } | { ok: false; reason: string };

/** The checkpoint note body. Throws on an origin or extension line that would not round-trip. */
export function formatCheckpoint(cp: {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions?: readonly string[];
}): string {
  if (!validLine(cp.origin)) throw new Error(`invalid checkpoint origin "${cp.origin}"`);
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) {
    throw new Error(`invalid checkpoint size ${cp.size}`);
  }
  if (cp.rootHash.length !== 32) throw new Error('a checkpoint root hash has 32 bytes');
  for (const ext of cp.extensions ?? []) {
    if (!validLine(ext)) throw new Error(`invalid checkpoint extension line "${ext}"`);
  }
  const lines = [cp.origin, String(cp.size), Buffer.from(cp.rootHash).toString('base64')];
  return [...lines, ...(cp.extensions ?? [])].map((l) => `${l}\n`).join('');
}

/** Parses a checkpoint note body (not the signed note: see `verifyCheckpoint`). Throws if malformed. */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) {
    throw new Error('malformed checkpoint: the body must end in a newline');
  }
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new Error('malformed checkpoint: fewer than three lines');
  if (!lines.every(validLine)) throw new Error('malformed checkpoint: empty or invalid line');
  const [origin, size, root, ...extensions] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw new Error(`malformed checkpoint: bad tree size "${size}"`);
  }
  const rootHash = decodeBase64Strict(root);
  if (!rootHash || rootHash.length !== 32) {
    throw new Error(`malformed checkpoint: bad root hash "${root}"`);
  }
  return { origin, size: Number(size), rootHash, ...(extensions.length ? { extensions } : {}) };
}

/** Formats and signs a checkpoint with one or more keys. */
export function signCheckpoint(
  cp: Parameters<typeof formatCheckpoint>[0],
  signers: readonly NoteSigner[],
): string {
  return signNote(formatCheckpoint(cp), signers);
}

/**
 * Verifies a signed checkpoint note against trusted verifier keys and parses its body; with
 * `origin`, the checkpoint must be for that log.
 */
export function verifyCheckpoint(
  note: string | Uint8Array,
  verifierKeys: readonly (string | NoteVerifierKey)[],
  opts: { origin?: string } = {},
): CheckpointVerdict {
  const verdict = verifyNote(note, verifierKeys);
  if (!verdict.ok) return verdict;
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(verdict.body);
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  if (opts.origin !== undefined && checkpoint.origin !== opts.origin) {
    return {
      ok: false,
      reason: `checkpoint origin "${checkpoint.origin}" is not "${opts.origin}"`,
    };
  }
  return { ok: true, checkpoint, signers: verdict.signers };
}

function validLine(l: string): boolean {
  return typeof l === 'string' && l !== '' && !hasControlCharacter(l);
}
