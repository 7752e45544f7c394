import { outboxMessage, Topics } from '@mandate/messaging';
import { createHash, randomBytes } from 'node:crypto';
import { AuditKind, AuditRecord } from '@mandate/contracts';
import { InMemoryDocumentStore, tenantId, type DocumentStore } from '@mandate/storage';
import {
  erasureRecord,
  erasureRecordId,
  InvalidKekConfigError,
  KeyUnwrapError,
  LEDGER_SUBJECT_KEYS,
  parseKeks,
  PAYLOAD_DROPPED_ATTRIBUTE,
  PAYLOAD_ENCRYPTION_A256GCM_V1,
  PayloadCipher,
  PayloadDecryptError,
  SubjectErasedError,
  SubjectKeyMissingError,
  SubjectKeyStore,
  UnknownKekError,
  type KeyEncryptionKey,
  type SubjectKeyDoc,
} from './index';

const acme = tenantId('acme');
const globex = tenantId('globex');
const kek1: KeyEncryptionKey = { id: 'kek-1', key: randomBytes(32) };
const kek2: KeyEncryptionKey = { id: 'kek-2', key: randomBytes(32) };

function newDocs(): InMemoryDocumentStore<SubjectKeyDoc> {
  return new InMemoryDocumentStore(LEDGER_SUBJECT_KEYS);
}

function setup(keks: KeyEncryptionKey[] = [kek1], docs: DocumentStore<SubjectKeyDoc> = newDocs()) {
  const keys = new SubjectKeyStore(docs, { keks });
  return { docs, keys, cipher: new PayloadCipher(keys) };
}

function record(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return AuditRecord.fromPartial({
    recordId: 'rec-1',
    tenantId: acme,
    correlationId: 'corr-1',
    kind: AuditKind.AUDIT_KIND_PROPOSAL,
    actor: 'orchestrator',
    summary: 'proposal for contact',
    payloadType: 'mandate.v1.ActionProposal',
    payload: Buffer.from('{"email":"jane@example.com"}'),
    attributes: { agent_id: 'agent-7' },
    dataSubjectId: 'ds-42',
    ...overrides,
  });
}

/** RFC 9162 leaf hash of the record as the ledger stores it. */
const leafHashOf = (r: AuditRecord) =>
  createHash('sha256')
    .update(Buffer.concat([Buffer.from([0]), Buffer.from(AuditRecord.encode(r).finish())]))
    .digest('hex');

describe('PayloadCipher', () => {
  it('round-trips a payload and stores nonce || ciphertext || tag', async () => {
    const { cipher } = setup();
    const original = record();
    const sealed = await cipher.seal(acme, original);

    expect(sealed).not.toBe(original);
    expect(sealed.payloadEncryption).toBe(PAYLOAD_ENCRYPTION_A256GCM_V1);
    expect(sealed.payload.length).toBe(12 + original.payload.length + 16);
    expect(sealed.payload.includes(Buffer.from('jane@example.com'))).toBe(false);
    expect(original.payloadEncryption).toBe(''); // the input is not mutated
    expect({ ...sealed, payload: undefined, payloadEncryption: undefined }).toEqual({
      ...original,
      payload: undefined,
      payloadEncryption: undefined,
    });

    const decoded = AuditRecord.decode(AuditRecord.encode(sealed).finish());
    await expect(cipher.open(acme, decoded)).resolves.toEqual({ payload: original.payload });
  });

  it('uses a fresh nonce per seal and leaves an already sealed record alone', async () => {
    const { cipher } = setup();
    const a = await cipher.seal(acme, record());
    const b = await cipher.seal(acme, record());
    expect(a.payload.equals(b.payload)).toBe(false);
    expect(await cipher.seal(acme, a)).toBe(a);
  });

  it('binds the ciphertext to tenant, record and subject (AAD)', async () => {
    const { cipher } = setup();
    const one = await cipher.seal(acme, record({ recordId: 'rec-1' }));
    const two = await cipher.seal(acme, record({ recordId: 'rec-2' }));

    const swapped = { ...two, payload: one.payload };
    await expect(cipher.open(acme, swapped)).rejects.toThrow(PayloadDecryptError);
    await expect(cipher.open(acme, { ...one, recordId: 'rec-2' })).rejects.toThrow(
      PayloadDecryptError,
    );

    const flipped = Buffer.from(one.payload);
    flipped[14] ^= 1;
    await expect(cipher.open(acme, { ...one, payload: flipped })).rejects.toThrow(
      PayloadDecryptError,
    );
  });

  it('does not open a ciphertext under another subject or tenant', async () => {
    const { cipher } = setup();
    const other = await cipher.seal(acme, record({ dataSubjectId: 'ds-other' }));
    const mine = await cipher.seal(acme, record());
    await expect(
      cipher.open(acme, { ...mine, dataSubjectId: 'ds-other', payload: mine.payload }),
    ).rejects.toThrow(PayloadDecryptError);
    await expect(cipher.open(acme, { ...other, payload: mine.payload })).rejects.toThrow(
      PayloadDecryptError,
    );
    // Same subject id in another tenant is another subject with no key.
    await expect(cipher.open(globex, mine)).rejects.toThrow(SubjectKeyMissingError);
    await expect(cipher.seal(globex, record())).rejects.toThrow(/does not belong to tenant/);
  });

  it('returns records without subject or payload unchanged and opens them as clear', async () => {
    const { cipher, docs } = setup();
    const noSubject = record({ dataSubjectId: '' });
    const noPayload = record({ payload: Buffer.alloc(0), payloadType: '' });
    expect(await cipher.seal(acme, noSubject)).toBe(noSubject);
    expect(await cipher.seal(acme, noPayload)).toBe(noPayload);
    expect(await docs.count(acme)).toBe(0); // no key created for them
    await expect(cipher.open(acme, noSubject)).resolves.toEqual({ clear: noSubject.payload });
  });
});

describe('erasure', () => {
  it('writes the receipt with the tombstone, once', async () => {
    const docs = new InMemoryDocumentStore(LEDGER_SUBJECT_KEYS);
    const { cipher, keys } = setup([kek1], docs);
    await cipher.seal(acme, record());
    const pendingIds = async () =>
      (await docs.pendingOutbox({ limit: 10 })).flatMap((d) =>
        d.entries.map((e) => e.headers['ce_id']),
      );
    const receipt = (existed: boolean) => [
      outboxMessage(
        Topics.auditRecords,
        AuditRecord.fromPartial({ recordId: `erased-${existed}`, tenantId: 'acme' }),
        {
          tenantId: 'acme',
          correlationId: 'c',
          source: 'test',
          id: `erased-${existed}`,
        },
      ),
    ];
    await expect(keys.erase(acme, 'ds-42', { receipt })).resolves.toBe(true);
    expect(await pendingIds()).toEqual(['erased-true']);
    // A retried request finds the tombstone and writes nothing: the first receipt stands.
    await expect(keys.erase(acme, 'ds-42', { receipt })).resolves.toBe(false);
    expect(await pendingIds()).toEqual(['erased-true']);
  });

  it('shreds: open reports erased, the stored record and its leaf hash are unchanged', async () => {
    const { cipher, keys, docs } = setup();
    const sealed = await cipher.seal(acme, record());
    const stored = Buffer.from(AuditRecord.encode(sealed).finish());
    const hashBefore = leafHashOf(sealed);

    await expect(keys.erase(acme, 'ds-42')).resolves.toBe(true);

    const reread = AuditRecord.decode(stored);
    await expect(cipher.open(acme, reread)).resolves.toEqual({ erased: true });
    expect(Buffer.from(AuditRecord.encode(reread).finish()).equals(stored)).toBe(true);
    expect(leafHashOf(reread)).toBe(hashBefore);

    const tombstone = await docs.get(acme, 'ds-42');
    expect(tombstone?.erasedAt).toBeInstanceOf(Date);
    expect(tombstone).not.toHaveProperty('wrappedKey');
    expect(tombstone).not.toHaveProperty('kekId');
  });

  it('refuses keys after erasure, across instances and restarts', async () => {
    const { keys, docs } = setup();
    await keys.keyFor(acme, 'ds-42');
    await keys.erase(acme, 'ds-42');
    await expect(keys.keyFor(acme, 'ds-42')).rejects.toThrow(SubjectErasedError);
    await expect(keys.existingKey(acme, 'ds-42')).rejects.toThrow(SubjectErasedError);

    const restarted = new SubjectKeyStore(docs, { keks: [kek1] });
    await expect(restarted.keyFor(acme, 'ds-42')).rejects.toThrow(SubjectErasedError);
    // Another tenant's subject with the same id is untouched.
    await expect(restarted.keyFor(globex, 'ds-42')).resolves.toBeDefined();
  });

  it('is idempotent and reports whether a key existed', async () => {
    const { keys } = setup();
    await expect(keys.erase(acme, 'never-keyed')).resolves.toBe(false);
    await expect(keys.keyFor(acme, 'never-keyed')).rejects.toThrow(SubjectErasedError);
    await keys.keyFor(acme, 'ds-42');
    await expect(keys.erase(acme, 'ds-42')).resolves.toBe(true);
    await expect(keys.erase(acme, 'ds-42')).resolves.toBe(false);
  });

  it('seal after erasure drops the payload and says so', async () => {
    const { cipher, keys } = setup();
    await keys.erase(acme, 'ds-42');
    const original = record();
    const sealed = await cipher.seal(acme, original);
    expect(sealed.payload.length).toBe(0);
    expect(sealed.payloadEncryption).toBe('');
    expect(sealed.attributes).toEqual({ agent_id: 'agent-7', payload_dropped: 'subject erased' });
    expect(sealed.attributes[PAYLOAD_DROPPED_ATTRIBUTE]).toBe('subject erased');
    expect(original.payload.length).toBeGreaterThan(0);
    expect(original.attributes).toEqual({ agent_id: 'agent-7' });
    await expect(cipher.open(acme, sealed)).resolves.toEqual({ erased: true });
  });

  it('builds a PII-free, deterministic erasure receipt', () => {
    const facts = {
      tenantId: 'acme',
      dataSubjectId: 'ds-42',
      erasureRequestId: 'er-9',
      requestedBy: 'user-dpo-1',
      reasonCode: 'gdpr_art17',
      keyExisted: true,
    };
    const r = erasureRecord(facts);
    expect(r.kind).toBe(AuditKind.AUDIT_KIND_ERASURE);
    expect(r.actor).toBe('user-dpo-1');
    expect(r.summary).toBe('data subject ds-42 erased: key shredded');
    expect(r.attributes).toMatchObject({
      data_subject_id: 'ds-42',
      reason_code: 'gdpr_art17',
      key_existed: 'true',
    });
    expect(r.payload.length).toBe(0);
    expect(r.dataSubjectId).toBe('');
    expect(r.recordId).toBe(erasureRecordId('acme', 'ds-42', 'er-9'));
    expect(erasureRecord({ ...facts, requestedBy: 'user-2' }).recordId).toBe(r.recordId);
    expect(erasureRecord({ ...facts, erasureRequestId: 'er-10' }).recordId).not.toBe(r.recordId);
    expect(erasureRecord({ ...facts, keyExisted: false }).attributes['key_existed']).toBe('false');
    expect(() => erasureRecord({ ...facts, reasonCode: 'Jane asked nicely' })).toThrow(
      /reason code/,
    );
  });
});

describe('SubjectKeyStore', () => {
  it('opens keys wrapped under an older KEK after rotation, and rewraps them', async () => {
    const docs = newDocs();
    const before = setup([kek1], docs);
    const sealed = await before.cipher.seal(acme, record());
    expect((await docs.get(acme, 'ds-42'))?.kekId).toBe('kek-1');

    const after = setup([kek2, kek1], docs);
    expect(after.keys.currentKekId).toBe('kek-2');
    await expect(after.cipher.open(acme, sealed)).resolves.toEqual({
      payload: record().payload,
    });
    await after.keys.keyFor(acme, 'ds-new');
    expect((await docs.get(acme, 'ds-new'))?.kekId).toBe('kek-2');

    await expect(after.keys.rewrap(acme, 'ds-42')).resolves.toBe(true);
    await expect(after.keys.rewrap(acme, 'ds-42')).resolves.toBe(false);
    expect((await docs.get(acme, 'ds-42'))?.kekId).toBe('kek-2');
    const kek2Only = setup([kek2], docs);
    await expect(kek2Only.cipher.open(acme, sealed)).resolves.toEqual({
      payload: record().payload,
    });
  });

  it('fails clearly with an unknown KEK id or the wrong KEK material', async () => {
    const docs = newDocs();
    const sealed = await setup([kek1], docs).cipher.seal(acme, record());

    const unknown = setup([kek2], docs);
    await expect(unknown.cipher.open(acme, sealed)).rejects.toThrow(UnknownKekError);
    await expect(unknown.keys.keyFor(acme, 'ds-42')).rejects.toThrow(
      'subject key is wrapped under KEK "kek-1", which is not configured (configured: kek-2)',
    );

    const impostor = setup([{ id: 'kek-1', key: randomBytes(32) }], docs);
    await expect(impostor.cipher.open(acme, sealed)).rejects.toThrow(KeyUnwrapError);
    await expect(impostor.keys.keyFor(acme, 'ds-42')).rejects.toThrow(/cannot unwrap.*"kek-1"/);
  });

  it('does not unwrap a key document copied to another subject', async () => {
    const { keys, docs } = setup();
    await keys.keyFor(acme, 'ds-a');
    const a = (await docs.get(acme, 'ds-a'))!;
    await docs.insert(acme, {
      id: 'ds-b',
      kekId: a.kekId,
      wrappedKey: a.wrappedKey,
      createdAt: a.createdAt,
    });
    await expect(setup([kek1], docs).keys.keyFor(acme, 'ds-b')).rejects.toThrow(KeyUnwrapError);
  });

  it('gives concurrent first users of a subject one key (in one process and across two)', async () => {
    const docs = newDocs();
    const one = new SubjectKeyStore(docs, { keks: [kek1] });
    const two = new SubjectKeyStore(docs, { keks: [kek1] });
    const insert = jest.spyOn(docs, 'insert');
    const keys = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? one : two).keyFor(acme, 'ds-new')),
    );
    const first = keys[0].export();
    for (const k of keys) expect(k.export().equals(first)).toBe(true);
    expect(insert.mock.calls.length).toBeGreaterThan(1); // the race really happened
    expect(await docs.count(acme)).toBe(1);
  });

  it('bounds its cache and evicts the least recently used key', async () => {
    const docs = newDocs();
    const keys = new SubjectKeyStore(docs, { keks: [kek1], maxCachedKeys: 2 });
    const a = await keys.keyFor(acme, 'a');
    await keys.keyFor(acme, 'b');
    await keys.keyFor(acme, 'a'); // a is now most recent
    await keys.keyFor(acme, 'c'); // evicts b
    expect(keys.cachedKeyCount).toBe(2);

    const get = jest.spyOn(docs, 'get');
    await keys.keyFor(acme, 'a');
    await keys.keyFor(acme, 'c');
    expect(get).not.toHaveBeenCalled();
    await keys.keyFor(acme, 'b');
    expect(get).toHaveBeenCalledTimes(1);
    expect(keys.cachedKeyCount).toBe(2);
    expect((await keys.keyFor(acme, 'a')).export().equals(a.export())).toBe(true);
  });

  it('expires cached keys so other processes notice an erasure', async () => {
    const docs = newDocs();
    const reader = new SubjectKeyStore(docs, { keks: [kek1], cacheTtlMs: 0 });
    const eraser = new SubjectKeyStore(docs, { keks: [kek1] });
    await reader.keyFor(acme, 'ds-42');
    await eraser.erase(acme, 'ds-42');
    await expect(reader.keyFor(acme, 'ds-42')).rejects.toThrow(SubjectErasedError);
  });

  it('never prints key material', async () => {
    const { keys } = setup();
    const key = await keys.keyFor(acme, 'ds-42');
    const hex = key.export().toString('hex');
    expect(JSON.stringify(key)).not.toContain(hex);
    expect(require('node:util').inspect(keys, { depth: 10 })).not.toContain(hex);
  });
});

describe('parseKeks', () => {
  it('parses "id:base64" entries, current first', () => {
    const b1 = randomBytes(32).toString('base64');
    const b2 = randomBytes(32).toString('base64');
    const keks = parseKeks(` kek-2:${b2}, kek-1:${b1} `);
    expect(keks.map((k) => k.id)).toEqual(['kek-2', 'kek-1']);
    expect(new SubjectKeyStore(newDocs(), { keks }).currentKekId).toBe('kek-2');
  });

  it('refuses bad configuration without echoing key material', () => {
    const short = randomBytes(16).toString('base64');
    const good = randomBytes(32).toString('base64');
    expect(() => parseKeks(`kek-1:${short}`)).toThrow(InvalidKekConfigError);
    expect(() => parseKeks(`kek-1:${short}`)).not.toThrow(short);
    expect(() => parseKeks(`kek-1:${good},kek-1:${good}`)).toThrow(/configured twice/);
    expect(() => parseKeks(good)).toThrow(/not "id:base64"/);
    expect(() => parseKeks('')).toThrow(InvalidKekConfigError);
    expect(() => new SubjectKeyStore(newDocs(), { keks: [] })).toThrow(InvalidKekConfigError);
  });
});
