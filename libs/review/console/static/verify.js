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

/**
 * Checks a chain from the review service. Resolves
 * `{checkpoint: {status, reason?, signers?}, entries: Map<leafIndex, {status, reason?}>}` where a
 * status is `verified` (leaf, proof and signature), `proof-only` (leaf and proof; no pinned key to
 * check the signature with), `failed`, or (entries) `pending` (not yet in a checkpoint).
 */
export async function verifyChain(chain, verifierKeys) {
  const entries = new Map();
  for (const e of chain.pending ?? []) entries.set(e.leafIndex, { status: 'pending' });
  const cp = chain.checkpoint;
  if (!cp) {
    for (const e of chain.entries) entries.set(e.leafIndex, { status: 'pending' });
    return { checkpoint: { status: 'none' }, entries };
  }
  let checkpoint;
  let root;
  try {
    root = fromBase64(cp.rootHash);
    const keys = [];
    for (const v of verifierKeys) keys.push(await parseVerifierKey(v));
    if (!keys.length) checkpoint = { status: 'proof-only', reason: 'no verifier key is pinned' };
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
  for (const e of chain.entries) {
    let status;
    try {
      const leaf = await leafHash(fromBase64(e.leafData));
      if (!equal(leaf, fromBase64(e.leafHash)))
        status = { status: 'failed', reason: 'the leaf bytes do not hash to the leaf hash' };
      else {
        const proof = await verifyInclusion(
          e.leafIndex,
          cp.treeSize,
          leaf,
          (e.auditPath ?? []).map(fromBase64),
          root,
        );
        if (!proof.ok) status = { status: 'failed', reason: proof.reason };
        else if (checkpoint.status === 'failed')
          status = { status: 'failed', reason: `checkpoint: ${checkpoint.reason}` };
        else status = { status: checkpoint.status };
      }
    } catch (err) {
      status = { status: 'failed', reason: err.message };
    }
    entries.set(e.leafIndex, status);
  }
  return { checkpoint, entries };
}
