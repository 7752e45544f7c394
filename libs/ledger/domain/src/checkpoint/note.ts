/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 signatures, byte-compatible with
 * golang.org/x/mod/sumdb/note. A note is UTF-8 text ending in "\n", a blank line, then one or
 * more signature lines "— <key name> <base64(4-byte key hash || 64-byte signature)>\n".
 * Verifier keys are "<name>+<hex key hash>+<base64(0x01 || 32-byte public key)>"; the key hash is
 * the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key).
 *
 * Verification follows Go's note.Open: signatures by unknown keys are ignored (so keys can be
 * rotated by signing with old and new keys for a while), a known key's bad signature rejects
 * the note, and at least one known key must have signed it.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as ed25519Sign,
  verify as ed25519Verify,
  type KeyObject,
} from 'node:crypto';
import { decodeBase64Strict, hasControlCharacter } from './base64';

const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 '; // "— " (U+2014 EM DASH, space)
const MAX_SIGNATURES = 100;
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A parsed verifier key. */
export interface NoteVerifierKey {
  name: string;
  /** Key hash as a uint32. */
  keyHash: number;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
  /** The canonical verifier key string. */
  vkey: string;
}

/** One signature line of a note. */
export interface NoteSignature {
  name: string;
  /** Key hash, 8 lower-case hex digits. */
  keyHash: string;
}

export type NoteVerdict =
  | { ok: true; body: string; signers: NoteSignature[]; unverified: NoteSignature[] }
  | { ok: false; reason: string };

/** A C2SP key name: non-empty, no whitespace, no "+". */
export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && name !== '' && !/[\s\u0085+]/u.test(name);
}

/** The note key hash: first 4 bytes (big-endian uint32) of SHA-256(name || "\n" || key). */
export function noteKeyHash(name: string, algAndKey: Uint8Array): number {
  return createHash('sha256').update(name).update('\n').update(algAndKey).digest().readUInt32BE(0);
}

/** Parses a verifier key string; throws on a malformed key or a key hash that does not match. */
export function parseVerifierKey(vkey: string): NoteVerifierKey {
  const [name, hash16, key64] = chop3(vkey);
  const key = key64 === undefined ? undefined : decodeBase64Strict(key64);
  if (!isValidKeyName(name) || !isHex8(hash16) || !key || key.length === 0) {
    throw new Error(`malformed verifier key "${vkey}"`);
  }
  if (parseInt(hash16 as string, 16) !== noteKeyHash(name, key)) {
    throw new Error(`verifier key "${vkey}": key hash does not match the key`);
  }
  if (key[0] !== ALG_ED25519) throw new Error(`verifier key "${vkey}": unknown algorithm`);
  if (key.length !== 33) throw new Error(`verifier key "${vkey}": wrong Ed25519 key length`);
  return { name, keyHash: noteKeyHash(name, key), publicKey: key.subarray(1), vkey };
}

/** The verifier key string for an Ed25519 public key (KeyObject or raw 32 bytes). */
export function verifierKeyFor(name: string, publicKey: KeyObject | Uint8Array): string {
  if (!isValidKeyName(name)) throw new Error(`invalid key name "${name}"`);
  const raw = rawPublicKey(publicKey);
  const key = Buffer.concat([Buffer.from([ALG_ED25519]), raw]);
  return `${name}+${hex8(noteKeyHash(name, key))}+${key.toString('base64')}`;
}

/** Signs note bodies with one Ed25519 key. */
export class NoteSigner {
  readonly keyHash: number;
  readonly verifierKey: string;
  private readonly publicKey: Buffer;

  constructor(
    readonly name: string,
    private readonly privateKey: KeyObject,
  ) {
    if (!isValidKeyName(name)) throw new Error(`invalid key name "${name}"`);
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error('a note signer needs an Ed25519 private key');
    }
    this.publicKey = rawPublicKey(createPublicKey(privateKey));
    this.verifierKey = verifierKeyFor(name, this.publicKey);
    this.keyHash = parseVerifierKey(this.verifierKey).keyHash;
  }

  /** The signed note: `body`, a blank line and this key's signature line. */
  sign(body: string): string {
    return signNote(body, [this]);
  }

  /** This key's signature line ("— name base64\n") for `body`. */
  signatureLine(body: string): string {
    checkBody(body);
    const sig = ed25519Sign(null, Buffer.from(body, 'utf8'), this.privateKey);
    const blob = Buffer.alloc(4 + sig.length);
    blob.writeUInt32BE(this.keyHash, 0);
    sig.copy(blob, 4);
    return `${SIG_PREFIX}${this.name} ${blob.toString('base64')}\n`;
  }
}

/** A note signed by several keys (e.g. the old and the new key during a rotation). */
export function signNote(body: string, signers: readonly NoteSigner[]): string {
  checkBody(body);
  if (signers.length === 0) throw new Error('a signed note needs at least one signer');
  return `${body}\n${signers.map((s) => s.signatureLine(body)).join('')}`;
}

/** A fresh Ed25519 signer (tests, tooling); export the key with `privateKey.export(...)`. */
export function generateNoteSigner(name: string): { signer: NoteSigner; privateKey: KeyObject } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { signer: new NoteSigner(name, privateKey), privateKey };
}

/**
 * A signer from configuration: a PKCS#8 PEM, base64 of PKCS#8 DER, or Go's
 * "PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>" (whose embedded name must equal `name`
 * when one is given).
 */
export function signerFromConfig(name: string | undefined, config: string): NoteSigner {
  const text = config.trim();
  if (text.startsWith('PRIVATE+KEY+')) {
    const go = parseGoPrivateKey(text);
    if (name !== undefined && name !== go.name) {
      throw new Error(`signing key is for "${go.name}", not "${name}"`);
    }
    return new NoteSigner(go.name, go.privateKey);
  }
  if (name === undefined) throw new Error('a key name is needed for a PKCS#8 signing key');
  if (text.startsWith('-----BEGIN')) return new NoteSigner(name, createPrivateKey(text));
  const der = decodeBase64Strict(text.replace(/\s+/g, ''));
  if (!der) throw new Error('signing key is neither PEM, base64 PKCS#8 nor PRIVATE+KEY');
  return new NoteSigner(name, createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

function parseGoPrivateKey(skey: string): { name: string; privateKey: KeyObject } {
  const rest = skey.slice('PRIVATE+KEY+'.length);
  const [name, hash16, key64] = chop3(rest);
  const key = key64 === undefined ? undefined : decodeBase64Strict(key64);
  if (!isValidKeyName(name) || !isHex8(hash16) || !key || key.length !== 33) {
    throw new Error('malformed PRIVATE+KEY signing key');
  }
  if (key[0] !== ALG_ED25519) throw new Error('PRIVATE+KEY signing key: unknown algorithm');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, key.subarray(1)]),
    format: 'der',
    type: 'pkcs8',
  });
  const pub = Buffer.concat([
    Buffer.from([ALG_ED25519]),
    rawPublicKey(createPublicKey(privateKey)),
  ]);
  if (parseInt(hash16 as string, 16) !== noteKeyHash(name, pub)) {
    throw new Error('PRIVATE+KEY signing key: key hash does not match the key');
  }
  return { name, privateKey };
}

/**
 * Opens a signed note: checks its syntax and every signature by a known key. Accepts the text or
 * its raw bytes (which must be valid UTF-8). Keys are verifier key strings or parsed keys.
 */
export function verifyNote(
  note: string | Uint8Array,
  verifierKeys: readonly (string | NoteVerifierKey)[],
): NoteVerdict {
  let keys: NoteVerifierKey[];
  try {
    keys = verifierKeys.map((k) => (typeof k === 'string' ? parseVerifierKey(k) : k));
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  let text: string;
  try {
    text = typeof note === 'string' ? note : new TextDecoder('utf-8', { fatal: true }).decode(note);
  } catch {
    return fail('malformed note: not UTF-8');
  }
  // Valid UTF-8 with no ASCII control characters other than newline.
  if (hasControlCharacter(text, true) || !isWellFormed(text)) {
    return fail('malformed note: control character or invalid text');
  }
  const split = text.lastIndexOf('\n\n');
  if (split < 0) return fail('malformed note: no signature block');
  const body = text.slice(0, split + 1);
  let sigs = text.slice(split + 2);
  if (sigs === '' || !sigs.endsWith('\n')) return fail('malformed note: unterminated signatures');

  const signers: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  const bodyBytes = Buffer.from(body, 'utf8');
  let count = 0;
  while (sigs.length > 0) {
    const nl = sigs.indexOf('\n');
    const line = sigs.slice(0, nl);
    sigs = sigs.slice(nl + 1);
    if (!line.startsWith(SIG_PREFIX)) return fail('malformed note: bad signature line');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const b64 = space < 0 ? '' : rest.slice(space + 1);
    const blob = decodeBase64Strict(b64);
    if (!isValidKeyName(name) || b64 === '' || !blob || blob.length < 5) {
      return fail('malformed note: bad signature line');
    }
    if (++count > MAX_SIGNATURES) return fail('malformed note: too many signatures');
    const keyHash = blob.readUInt32BE(0);
    const id: NoteSignature = { name, keyHash: hex8(keyHash) };
    const candidates = keys.filter((k) => k.name === name && k.keyHash === keyHash);
    const distinct = new Set(candidates.map((k) => k.publicKey.toString('hex')));
    if (distinct.size > 1) return fail(`ambiguous key ${name}+${id.keyHash}`);
    if (candidates.length === 0) {
      if (!seenUnverified.has(line)) unverified.push(id);
      seenUnverified.add(line);
      continue;
    }
    const k = `${name}+${id.keyHash}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const sig = blob.subarray(4);
    if (sig.length !== 64 || !ed25519Verify(null, bodyBytes, publicKeyObject(candidates[0]), sig)) {
      return fail(`invalid signature for key ${k}`);
    }
    signers.push(id);
  }
  if (signers.length === 0) return fail('note has no verifiable signatures');
  return { ok: true, body, signers, unverified };
}

function checkBody(body: string): void {
  if (
    typeof body !== 'string' ||
    body === '' ||
    !body.endsWith('\n') ||
    body.includes('\n\n') ||
    hasControlCharacter(body, true) ||
    !isWellFormed(body)
  ) {
    throw new Error(
      'malformed note: a body is non-empty text ending in "\\n", without blank lines',
    );
  }
}

function isWellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

const keyObjects = new WeakMap<NoteVerifierKey, KeyObject>();
function publicKeyObject(key: NoteVerifierKey): KeyObject {
  let obj = keyObjects.get(key);
  if (!obj) {
    obj = createPublicKey({
      key: Buffer.concat([SPKI_ED25519, key.publicKey]),
      format: 'der',
      type: 'spki',
    });
    keyObjects.set(key, obj);
  }
  return obj;
}

function rawPublicKey(key: KeyObject | Uint8Array): Buffer {
  if (!(key instanceof Uint8Array)) {
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    const spki = (key.type === 'private' ? createPublicKey(key) : key).export({
      format: 'der',
      type: 'spki',
    });
    return spki.subarray(spki.length - 32);
  }
  if (key.length !== 32) throw new Error(`an Ed25519 public key has 32 bytes, got ${key.length}`);
  return Buffer.from(key);
}

/** name+hash+rest, splitting at the first two "+" (the base64 key may itself contain "+"). */
function chop3(s: string): [string, string | undefined, string | undefined] {
  const a = s.indexOf('+');
  if (a < 0) return [s, undefined, undefined];
  const b = s.indexOf('+', a + 1);
  if (b < 0) return [s.slice(0, a), s.slice(a + 1), undefined];
  return [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
}

const isHex8 = (s: string | undefined) => s !== undefined && /^[0-9a-fA-F]{8}$/.test(s);
const hex8 = (n: number) => n.toString(16).padStart(8, '0');

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
