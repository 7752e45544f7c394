// Verifies ledger entries in the browser, trusting nothing the server says about them:
//  1. the leaf hash is SHA-256(0x00 || leaf bytes) (RFC 9162 §2.1.1);
//  2. the inclusion proof folds that leaf hash up to the checkpoint's root (RFC 9162 §2.1.3.2);
//  3. the checkpoint is a C2SP signed note, signed with Ed25519 by a pinned verifier key, and its
//     body names the same origin, tree size and root.
// Web Crypto only (SHA-256, Ed25519): no library, no server round trip.

const SIG_PREFIX = '\u2014 '; // "— "
const enc = new TextEncoder();

export function fromBase64(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0)
    throw new Error('malformed base64');
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function sha256(...parts) {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const leafHash = (leaf) => sha256(Uint8Array.of(0), leaf);
const nodeHash = (l, r) => sha256(Uint8Array.of(1), l, r);

function bitLength(n) {
  let bits = 0;
  while (n > 0n) {
    bits++;
    n >>= 1n;
  }
  return bits;
}

function popCount(n) {
  let c = 0;
  while (n > 0n) {
    c += Number(n & 1n);
    n >>= 1n;
  }
  return c;
}

/** RFC 9162 inclusion proof check; resolves `{ok}` or `{ok: false, reason}`. */
export async function verifyInclusion(leafIndex, treeSize, leaf, proof, root) {
  const index = BigInt(leafIndex);
  const size = BigInt(treeSize);
  if (index < 0n || index >= size)
    return { ok: false, reason: `leaf ${index} is not below tree size ${size}` };
  if (leaf.length !== 32 || proof.some((p) => p.length !== 32))
    return { ok: false, reason: 'hashes must be 32 bytes' };
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  if (proof.length !== inner + border)
    return { ok: false, reason: `proof has ${proof.length} hashes, want ${inner + border}` };
  let hash = leaf;
  for (let i = 0; i < inner; i++)
    hash =
      ((index >> BigInt(i)) & 1n) === 0n
        ? await nodeHash(hash, proof[i])
        : await nodeHash(proof[i], hash);
  for (let i = inner; i < proof.length; i++) hash = await nodeHash(proof[i], hash);
  return equal(hash, root)
    ? { ok: true }
    : { ok: false, reason: 'the proof does not lead to the root' };
}

/** Parses a C2SP verifier key `name+hash+base64(0x01 || key)` and checks its key hash. */
export async function parseVerifierKey(vkey) {
  const a = vkey.indexOf('+');
  const b = vkey.indexOf('+', a + 1);
  if (a <= 0 || b < 0) throw new Error(`malformed verifier key "${vkey}"`);
  const name = vkey.slice(0, a);
  const hash = vkey.slice(a + 1, b);
  const key = fromBase64(vkey.slice(b + 1));
  if (!/^[0-9a-f]{8}$/.test(hash) || key.length !== 33 || key[0] !== 1)
    throw new Error(`malformed verifier key "${vkey}"`);
  const digest = await sha256(enc.encode(`${name}\n`), key);
  if (toHex(digest.subarray(0, 4)) !== hash)
    throw new Error(`verifier key "${vkey}": the key hash does not match the key`);
  return {
    name,
    keyHash: hash,
    key: await crypto.subtle.importKey('raw', key.subarray(1), { name: 'Ed25519' }, false, [
      'verify',
    ]),
  };
}

const toHex = (bytes) => [...bytes].map((x) => x.toString(16).padStart(2, '0')).join('');

/**
 * Opens a signed checkpoint note with pinned keys: at least one pinned key signed it, and no
 * pinned key's signature is bad (signatures by unknown keys are ignored, as in Go's note.Open).
 * Resolves `{ok, origin, size, root, signers}` or `{ok: false, reason}`.
 */
export async function verifyCheckpointNote(note, keys) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return { ok: false, reason: 'the checkpoint is not a signed note' };
  const body = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split('\n');
  if (lines.pop() !== '') return { ok: false, reason: 'unterminated signature block' };
  const signers = [];
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) return { ok: false, reason: 'bad signature line' };
    const [name, b64] = line.slice(SIG_PREFIX.length).split(' ');
    let blob;
    try {
      blob = fromBase64(b64 ?? '');
    } catch {
      return { ok: false, reason: 'bad signature line' };
    }
    if (blob.length < 5) return { ok: false, reason: 'bad signature line' };
    const k = keys.find((x) => x.name === name && x.keyHash === toHex(blob.subarray(0, 4)));
    if (!k) continue;
    const ok =
      blob.length === 68 &&
      (await crypto.subtle.verify({ name: 'Ed25519' }, k.key, blob.subarray(4), enc.encode(body)));
    if (!ok) return { ok: false, reason: `invalid signature by ${name}+${k.keyHash}` };
    signers.push(`${name}+${k.keyHash}`);
  }
  if (!signers.length) return { ok: false, reason: 'no signature by a pinned key' };
  const [origin, size, root] = body.slice(0, -1).split('\n');
  if (!/^(0|[1-9][0-9]*)$/.test(size ?? '')) return { ok: false, reason: 'bad tree size' };
  let rootHash;
  try {
    rootHash = fromBase64(root ?? '');
  } catch {
    return { ok: false, reason: 'bad root hash' };
  }
  return { ok: true, origin, size: BigInt(size), root: rootHash, signers };
}

/** AuditKind names by number (proto/mandate/v1/audit.proto; a browser test checks the table). */
export const AUDIT_KINDS = [
  'UNSPECIFIED',
  'CRM_CHANGE',
  'CONTEXT_PREPARED',
  'PROPOSAL',
  'DECISION',
  'REVIEW_TASK',
  'REVIEW_DECISION',
  'EXECUTION',
  'TOKEN_REFUSED',
  'OUTCOME',
  'ERASURE',
  'POLICY_CONTROL',
  'SHADOW_DIVERGENCE',
  'HANDOFF_TASK',
];

const dec = new TextDecoder('utf-8', { fatal: true });

/** Protobuf wire format, just enough for AuditRecord: `[fieldNumber, wireType, value]` triples. */
function* fields(bytes) {
  let at = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= bytes.length || shift > 63n) throw new Error('malformed protobuf varint');
      const b = bytes[at++];
      if (shift === 63n && b > 1) throw new Error('protobuf varint over 64 bits');
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) yield [field, wire, varint()];
    else if (wire === 2) {
      const len = Number(varint());
      if (at + len > bytes.length) throw new Error('malformed protobuf length');
      yield [field, wire, bytes.subarray(at, at + len)];
      at += len;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (at > bytes.length) throw new Error('truncated protobuf');
  }
}

/**
 * The AuditRecord in a leaf's bytes: what the console shows is read from the verified bytes
 * themselves, never from fields the server sends beside them. The payload is not decoded.
 */
export function decodeAuditRecord(leaf) {
  const r = {
    recordId: '',
    tenantId: '',
    correlationId: '',
    kind: 'UNSPECIFIED',
    actor: '',
    summary: '',
    attributes: {},
  };
  for (const [f, w, v] of fields(leaf)) {
    if (w === 2 && [1, 2, 3, 5, 8].includes(f)) {
      const text = dec.decode(v);
      if (f === 1) r.recordId = text;
      else if (f === 2) r.tenantId = text;
      else if (f === 3) r.correlationId = text;
      else if (f === 5) r.actor = text;
      else r.summary = text;
    } else if (f === 4 && w === 0) r.kind = AUDIT_KINDS[Number(v)] ?? `KIND_${v}`;
    else if (f === 6 && w === 2) {
      const ref = {};
      for (const [g, gw, gv] of fields(v))
        if (gw === 2 && g === 1) ref.objectType = dec.decode(gv);
        else if (gw === 2 && g === 2) ref.recordId = dec.decode(gv);
      r.subject = ref;
    } else if (f === 7 && w === 2) {
      let seconds = 0n;
      let nanos = 0n;
      for (const [g, gw, gv] of fields(v))
        if (gw === 0 && g === 1) seconds = gv;
        else if (gw === 0 && g === 2) nanos = gv;
      r.occurredAt = new Date(
        Number(seconds) * 1000 + Math.floor(Number(nanos) / 1e6),
      ).toISOString();
    } else if (f === 11 && w === 2) {
      let k = '';
      let val = '';
      for (const [g, gw, gv] of fields(v))
        if (gw === 2 && g === 1) k = dec.decode(gv);
        else if (gw === 2 && g === 2) val = dec.decode(gv);
      r.attributes[k] = val;
    }
  }
  return r;
}

/**
 * Checks a chain from the review service against pinned facts: `verifierKeys` (the ledger's
 * public keys), `origin` (the tenant's log, `<ledger origin>/<tenant>`) and `tenantId`.
 * Resolves `{checkpoint: {status, reason?, signers?}, rows}`, one row per entry and pending entry
 * in log order: `{leafIndex, record, status, reason?}`, where `record` is decoded from the leaf
 * bytes (null if they do not decode) and a status is `verified` (leaf, proof, signature, origin
 * and tenant), `proof-only` (no pinned key: the signature is not checked), `pending` (appended
 * after the checkpoint) or `failed`.
 */
export async function verifyChain(chain, { verifierKeys = [], origin, tenantId } = {}) {
  const cp = chain.checkpoint;
  let checkpoint;
  let root;
  if (!cp) checkpoint = { status: 'none' };
  else
    try {
      root = fromBase64(cp.rootHash);
      const keys = [];
      for (const v of verifierKeys) keys.push(await parseVerifierKey(v));
      if (origin !== undefined && cp.origin !== origin)
        checkpoint = {
          status: 'failed',
          reason: `the checkpoint is of log "${cp.origin}", not "${origin}"`,
        };
      else if (!keys.length)
        checkpoint = { status: 'proof-only', reason: 'no verifier key is pinned' };
      else {
        const note = await verifyCheckpointNote(cp.signedNote, keys);
        if (!note.ok) checkpoint = { status: 'failed', reason: note.reason };
        else if (
          note.origin !== cp.origin ||
          note.size !== BigInt(cp.treeSize) ||
          !equal(note.root, root)
        )
          checkpoint = { status: 'failed', reason: 'the signed note and the checkpoint disagree' };
        else checkpoint = { status: 'verified', signers: note.signers };
      }
    } catch (err) {
      checkpoint = { status: 'failed', reason: err.message };
    }

  const all = [
    ...chain.entries.map((e) => ({ e, proven: true })),
    ...(chain.pending ?? []).map((e) => ({ e, proven: false })),
  ];
  const seen = new Map();
  for (const { e } of all) seen.set(e.leafIndex, (seen.get(e.leafIndex) ?? 0) + 1);
  const rows = [];
  for (const { e, proven } of all) {
    const row = { leafIndex: e.leafIndex, record: null };
    try {
      const bytes = fromBase64(e.leafData);
      const leaf = await leafHash(bytes);
      row.record = decodeAuditRecord(bytes);
      const fail = (reason) => Object.assign(row, { status: 'failed', reason });
      if (!Number.isSafeInteger(e.leafIndex) || e.leafIndex < 0) fail('no valid leaf index');
      else if (seen.get(e.leafIndex) > 1) fail(`leaf ${e.leafIndex} is listed more than once`);
      else if (!equal(leaf, fromBase64(e.leafHash)))
        fail('the leaf bytes do not hash to the leaf hash');
      else if (tenantId !== undefined && row.record.tenantId !== tenantId)
        fail(`the record belongs to tenant "${row.record.tenantId}"`);
      else if (!proven) {
        if (cp && BigInt(e.leafIndex) < BigInt(cp.treeSize))
          fail('listed as awaiting a checkpoint that already covers it, without a proof');
        else row.status = 'pending';
      } else if (!cp) fail('a proof without a checkpoint');
      else {
        const proof = await verifyInclusion(
          e.leafIndex,
          cp.treeSize,
          leaf,
          (e.auditPath ?? []).map(fromBase64),
          root,
        );
        if (!proof.ok) fail(proof.reason);
        else if (checkpoint.status === 'failed') fail(`checkpoint: ${checkpoint.reason}`);
        else row.status = checkpoint.status;
      }
    } catch (err) {
      Object.assign(row, { status: 'failed', reason: err.message });
    }
    rows.push(row);
  }
  rows.sort((a, b) => a.leafIndex - b.leafIndex);
  return { checkpoint, rows };
}
