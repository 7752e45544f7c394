/**
 * Signed notes against the golang.org/x/mod/sumdb/note test vectors (note_test.go, used as data),
 * so our notes and keys are byte-compatible with Go tooling; plus rotation and tamper cases.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  generateNoteSigner,
  NoteSigner,
  parseVerifierKey,
  signerFromConfig,
  signNote,
  verifierKeyFor,
  verifyNote,
} from './note';

const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const peter = { name: 'PeterNeumann', keyHash: 'c74f20a3' };
const enoch = { name: 'EnochRoot', keyHash: 'af0cfe78' };

describe('Go sumdb/note compatibility', () => {
  it('signs the Go test message byte for byte with the Go PRIVATE+KEY', () => {
    const signer = signerFromConfig(undefined, PETER_SKEY);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.verifierKey).toBe(PETER_VKEY);
    expect(signer.sign(TEXT)).toBe(`${TEXT}\n${PETER_SIG}`);
    expect(signerFromConfig('PeterNeumann', PETER_SKEY).sign(TEXT)).toBe(`${TEXT}\n${PETER_SIG}`);
    expect(() => signerFromConfig('Someone', PETER_SKEY)).toThrow(/PeterNeumann/);
  });

  it('parses the Go verifier keys and rejects every mangling (TestNewVerifier)', () => {
    const k = parseVerifierKey(PETER_VKEY);
    expect(k).toMatchObject({ name: 'PeterNeumann', keyHash: 0xc74f20a3, vkey: PETER_VKEY });
    expect(verifierKeyFor('PeterNeumann', k.publicKey)).toBe(PETER_VKEY);
    expect(parseVerifierKey(ENOCH_VKEY).keyHash).toBe(0xaf0cfe78);
    const accepted: string[] = [];
    const tryKey = (s: string) => {
      try {
        parseVerifierKey(s);
        accepted.push(s);
      } catch {
        // expected
      }
    };
    for (let i = 0; i <= PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if (i !== 0 || j !== PETER_VKEY.length) tryKey(PETER_VKEY.slice(i, j));
      }
    }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const c = String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1);
      tryKey(PETER_VKEY.slice(0, i) + c + PETER_VKEY.slice(i + 1));
    }
    tryKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==');
    tryKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
    expect(accepted).toEqual([]);
  });

  it('rejects mangled Go signing keys (TestNewSigner)', () => {
    let accepted = 0;
    for (let i = 0; i < PETER_SKEY.length; i++) {
      const c = String.fromCharCode(PETER_SKEY.charCodeAt(i) + 1);
      try {
        signerFromConfig(undefined, PETER_SKEY.slice(0, i) + c + PETER_SKEY.slice(i + 1));
        accepted++;
      } catch {
        // expected
      }
    }
    expect(accepted).toBe(0);
  });

  it('opens notes like Go (TestOpen): known keys verify, unknown keys are ignored', () => {
    const msg = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    expect(verifyNote(msg, [PETER_VKEY])).toEqual({
      ok: true,
      body: TEXT,
      signers: [peter],
      unverified: [enoch],
    });
    expect(verifyNote(msg, [PETER_VKEY, ENOCH_VKEY])).toEqual({
      ok: true,
      body: TEXT,
      signers: [peter, enoch],
      unverified: [],
    });
    expect(verifyNote(msg, [])).toEqual({ ok: false, reason: 'note has no verifiable signatures' });
    expect(verifyNote(Buffer.from(msg, 'utf8'), [PETER_VKEY]).ok).toBe(true);
  });

  it('rejects too many signatures, bad signatures and malformed notes', () => {
    expect(verifyNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [PETER_VKEY]).ok).toBe(false);
    expect(verifyNote(`${TEXT}\n${PETER_SIG.repeat(100)}`, [PETER_VKEY]).ok).toBe(true);
    const badSig = `${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`;
    expect(verifyNote(badSig, [PETER_VKEY])).toEqual({
      ok: false,
      reason: 'invalid signature for key PeterNeumann+c74f20a3',
    });
    // Duplicated verified and unverified signatures are dropped.
    const enochABCD = `${ENOCH_SIG.slice(0, 60)}ABCD${ENOCH_SIG.slice(60)}`;
    const dup = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${enochABCD}`;
    expect(verifyNote(dup, [PETER_VKEY])).toMatchObject({
      ok: true,
      signers: [peter],
      unverified: [enoch, enoch],
    });
    const badMsgs: (string | Buffer)[] = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\x01${TEXT}\n${PETER_SIG}`,
      Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]),
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
    ];
    for (const m of badMsgs) {
      const v = verifyNote(m, [PETER_VKEY]);
      expect(v.ok).toBe(false);
      expect(v.ok ? '' : v.reason).toMatch(/^malformed note/);
    }
  });

  it('rejects a signature under a known name with another key hash as unverified', () => {
    const wrongHash = PETER_SIG.replace('x08g', 'xxxx');
    expect(verifyNote(`${TEXT}\n${wrongHash}`, [PETER_VKEY])).toEqual({
      ok: false,
      reason: 'note has no verifiable signatures',
    });
  });
});

describe('signed notes: rotation and tampering', () => {
  const old = generateNoteSigner('mandate.example/acme').signer;
  const next = generateNoteSigner('mandate.example/acme').signer;
  const body = 'mandate.example/acme\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';

  it('accepts a note signed by the old and the new key with either key', () => {
    const note = signNote(body, [old, next]);
    expect(verifyNote(note, [old.verifierKey]).ok).toBe(true);
    expect(verifyNote(note, [next.verifierKey]).ok).toBe(true);
    const both = verifyNote(note, [old.verifierKey, next.verifierKey]);
    expect(both.ok && both.signers.length).toBe(2);
  });

  it('detects a changed body, a changed signature and a wrong key', () => {
    const note = old.sign(body);
    expect(verifyNote(note.replace('\n3\n', '\n4\n'), [old.verifierKey])).toEqual({
      ok: false,
      reason: `invalid signature for key ${old.verifierKey.split('+').slice(0, 2).join('+')}`,
    });
    const sigStart = note.lastIndexOf(' ') + 10;
    const c = note[sigStart] === 'A' ? 'B' : 'A';
    const tampered = note.slice(0, sigStart) + c + note.slice(sigStart + 1);
    expect(verifyNote(tampered, [old.verifierKey]).ok).toBe(false);
    expect(verifyNote(note, [next.verifierKey])).toEqual({
      ok: false,
      reason: 'note has no verifiable signatures',
    });
  });

  it('refuses to sign malformed bodies and non-Ed25519 keys', () => {
    expect(() => old.sign('abc')).toThrow(/malformed note/);
    expect(() => old.sign('a\n\nb\n')).toThrow(/malformed note/);
    expect(() => old.sign('a\x01\n')).toThrow(/malformed note/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(() => new NoteSigner('x', ec)).toThrow(/Ed25519/);
    expect(() => new NoteSigner('a b', generateKeyPairSync('ed25519').privateKey)).toThrow();
  });

  it('loads PKCS#8 keys as PEM or base64 DER', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const a = signerFromConfig('log.example', pem);
    const b = signerFromConfig('log.example', der);
    expect(a.verifierKey).toBe(b.verifierKey);
    expect(a.verifierKey).toBe(verifierKeyFor('log.example', privateKey));
    expect(verifyNote(b.sign(body), [a.verifierKey]).ok).toBe(true);
    expect(() => signerFromConfig(undefined, pem)).toThrow(/key name/);
    expect(() => signerFromConfig('log.example', 'not a key')).toThrow();
  });
});
