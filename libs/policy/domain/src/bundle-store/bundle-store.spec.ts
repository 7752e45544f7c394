import { Topics, SYSTEM_TENANT } from '@mandate/messaging';
import { ConcurrencyError, tenantId } from '@mandate/storage';
import { bundleContentHash } from '../cedar/bundle-content-hash';
import { BundleIntegrityError, BundleNotFoundError, MAX_POINTER_ATTEMPTS } from './bundle-store';
import {
  ALICE,
  BOB,
  CAROL,
  controlEvents,
  loadDefaultFiles,
  minutes,
  newStores,
  T0,
  variant,
} from './bundle-store.fixtures';

const SYS = tenantId(SYSTEM_TENANT);

let files: Record<string, string>;
let version: string;
beforeAll(async () => {
  files = await loadDefaultFiles();
  version = (JSON.parse(files['bundle.json']) as { version: string }).version;
});

describe('BundleStore.push', () => {
  it('stores a valid bundle as an array of files, with the pusher as author', async () => {
    const { store, bundles } = newStores();
    const result = await store.push(files, ALICE);
    expect(result).toEqual({
      ok: true,
      status: 'stored',
      bundle: { name: 'mandate-default-b2b-crm', version, contentHash: bundleContentHash(files) },
      warnings: [],
    });
    const doc = await bundles.get(SYS, version);
    expect(doc).toMatchObject({
      id: version,
      author: 'alice',
      manifestAuthor: 'policy-team@mandate.example',
      manifestApprover: 'compliance@mandate.example',
      contentHash: bundleContentHash(files),
      createdAt: T0,
    });
    // File names carry '.' and '/': stored as {path, content}, sorted, never as document keys.
    expect(doc?.files.map((f) => f.path)).toEqual(Object.keys(files).sort());
    expect(doc?.files.find((f) => f.path === 'bundle.json')?.content).toBe(files['bundle.json']);

    const loaded = await store.load(version);
    expect(loaded.contentHash).toBe(bundleContentHash(files));
    expect(loaded.sources).toEqual(files);
    const listed = await store.list();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: version, author: 'alice', fileCount: doc?.files.length });
    expect(listed[0]).not.toHaveProperty('files');
  });

  it('refuses an invalid bundle with every message and stores nothing', async () => {
    const { store, bundles } = newStores();
    const risk = JSON.parse(files['risk.json']) as Record<string, unknown>;
    const bad = variant(files, '1.1.0', {
      'policies/98-broken.cedar': 'permit (principal action resource',
      'policies/99-unknown-attr.cedar':
        '@id("bad.unknown-attr")\n@reason("BAD")\n' +
        'forbid (principal, action, resource) when { principal.noSuchAttribute == 1 };',
      'risk.json': JSON.stringify({ ...risk, bogusKey: 1 }),
    });
    const result = await store.push(bad, ALICE);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('invalid');
    expect(result.errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('policies/98-broken.cedar'),
        expect.stringMatching(
          /bad\.unknown-attr.*noSuchAttribute|noSuchAttribute.*bad\.unknown-attr/s,
        ),
        expect.stringMatching(/^risk\.json: .*bogusKey/),
      ]),
    );
    expect(await bundles.count(SYS)).toBe(0);
  });

  it('refuses a bundle whose own policy tests fail', async () => {
    const { store, bundles } = newStores();
    const bad = variant(files, '1.2.0', {
      'policies/30-no-deletes.cedar':
        '@id("nothing")\n@reason("NOTHING")\nforbid (principal, action, resource) when { false };',
    });
    const result = await store.push(bad, ALICE);
    expect(result).toMatchObject({ ok: false, code: 'invalid' });
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/test ".*" failed/);
    expect(await bundles.count(SYS)).toBe(0);
  });

  it('treats a version as immutable: same content is a no-op, other content is refused', async () => {
    const { store, bundles } = newStores();
    await store.push(files, ALICE);
    const again = await store.push(files, BOB, minutes(5));
    expect(again).toMatchObject({ ok: true, status: 'unchanged' });
    // The first pusher stays the author: pushing the same content again does not launder it.
    expect((await bundles.get(SYS, version))?.author).toBe('alice');

    const changed = { ...files, 'README.md': '# changed\n' };
    const refused = await store.push(changed, ALICE);
    expect(refused).toMatchObject({ ok: false, code: 'conflict' });
    if (!refused.ok) expect(refused.errors[0]).toMatch(/immutable: bump the version/);
    expect((await bundles.get(SYS, version))?.contentHash).toBe(bundleContentHash(files));
  });

  it('only lets a policy admin push', async () => {
    const { store, bundles } = newStores();
    for (const who of [CAROL, { id: '', roles: ['policy-admin'] }, { id: 'x', roles: [] }]) {
      expect(await store.push(files, who)).toMatchObject({ ok: false, code: 'forbidden' });
    }
    expect(await bundles.count(SYS)).toBe(0);
  });

  it('refuses files that are not text', async () => {
    const { store } = newStores();
    const result = await store.push({ ...files, 'agents.json': 42 as unknown as string }, ALICE);
    expect(result).toEqual({ ok: false, code: 'invalid', errors: ['agents.json: not text'] });
  });
});

describe('BundleStore.activate', () => {
  it('refuses activation by the pusher (two-person rule) and writes nothing', async () => {
    const { store, pointers } = newStores();
    await store.push(files, ALICE);
    const result = await store.activate(version, ALICE, 'roll out');
    expect(result).toMatchObject({ ok: false, code: 'forbidden' });
    if (!result.ok) expect(result.errors[0]).toMatch(/two-person rule/);
    expect(await store.pointer()).toBeUndefined();
    expect(await controlEvents(pointers)).toEqual([]);
  });

  it('refuses non-admins, unknown versions and a missing reason', async () => {
    const { store } = newStores();
    await store.push(files, ALICE);
    expect(await store.activate(version, CAROL, 'x')).toMatchObject({ code: 'forbidden' });
    expect(await store.activate('9.9.9', BOB, 'x')).toMatchObject({ code: 'not_found' });
    expect(await store.activate(version, BOB, '  ')).toMatchObject({ code: 'invalid' });
    expect(await store.pointer()).toBeUndefined();
  });

  it('activates with a second admin and writes a bundleActivated event with the pointer', async () => {
    const { store, pointers } = newStores();
    await store.push(files, ALICE);
    const first = await store.activate(version, { ...BOB, tenantId: undefined }, 'initial rollout');
    expect(first).toMatchObject({ ok: true, status: 'changed' });
    const pointer = await store.pointer();
    expect(pointer).toMatchObject({
      id: 'pointer',
      version: 1,
      active: { version, contentHash: bundleContentHash(files) },
      activatedBy: 'bob',
      approvedAt: T0,
      activationReason: 'initial rollout',
    });
    expect(pointer?.shadow).toBeUndefined();

    const next = variant(files, '1.0.1');
    await store.push(next, BOB);
    const second = await store.activate('1.0.1', ALICE, 'tighten discounts', minutes(10));
    expect(second).toMatchObject({ ok: true, status: 'changed' });

    const events = await controlEvents(pointers);
    expect(events).toHaveLength(2);
    const [e1, e2] = events;
    expect(e1.entry.topic).toBe(Topics.policyControl.name);
    expect(e1.entry.key).toBe(SYSTEM_TENANT);
    expect(e1.event).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
      version: '1',
      actor: 'bob',
      actorRoles: ['policy-admin'],
      actorTenantId: '',
      reason: 'initial rollout',
      occurredAt: T0.toISOString(),
      change: {
        $case: 'bundleActivated',
        value: { version, contentHash: bundleContentHash(files) },
      },
    });
    expect(e1.entry.headers['ce_id']).toBe(e1.event.eventId);
    expect(e2.event).toMatchObject({
      version: '2',
      actor: 'alice',
      reason: 'tighten discounts',
      occurredAt: minutes(10).toISOString(),
      change: {
        $case: 'bundleActivated',
        value: { version: '1.0.1', contentHash: bundleContentHash(next) },
      },
    });
    expect(e2.event.eventId).not.toBe(e1.event.eventId);
    expect((await store.pointer())?.version).toBe(2);
    if (second.ok) expect(second.event).toEqual(e2.event);

    // Re-activating the active bundle changes nothing and announces nothing.
    expect(await store.activate('1.0.1', ALICE, 'again')).toMatchObject({ status: 'unchanged' });
    expect(await controlEvents(pointers)).toHaveLength(2);
  });

  it('retries the compare-and-set on a concurrent change', async () => {
    const { store, pointers } = newStores();
    await store.push(files, ALICE);
    await store.push(variant(files, '1.0.1'), ALICE);
    await store.activate(version, BOB, 'initial');
    const results = await Promise.all([
      store.activate('1.0.1', BOB, 'next'),
      store.setShadow(version, BOB, 'compare'),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    const pointer = await store.pointer();
    expect(pointer).toMatchObject({
      version: 3,
      active: { version: '1.0.1' },
      shadow: { version },
    });
    const versions = (await controlEvents(pointers)).map((e) => e.event.version);
    expect(versions).toEqual(['1', '2', '3']);
  });

  it('gives up with "conflict" when the pointer keeps changing', async () => {
    const { store, pointers } = newStores();
    await store.push(files, ALICE);
    await store.push(variant(files, '1.0.1'), ALICE);
    await store.activate(version, BOB, 'initial');
    const upsert = jest
      .spyOn(pointers, 'upsert')
      .mockRejectedValue(new ConcurrencyError('policy_bundle_pointer', 'pointer', 1, 2));
    const result = await store.activate('1.0.1', BOB, 'next');
    expect(result).toMatchObject({ ok: false, code: 'conflict' });
    expect(upsert).toHaveBeenCalledTimes(MAX_POINTER_ATTEMPTS);
    upsert.mockRestore();
    expect((await store.pointer())?.active.version).toBe(version);
  });
});

describe('BundleStore integrity', () => {
  it('refuses to load or activate a bundle whose stored files were tampered with', async () => {
    const { store, bundles } = newStores();
    await store.push(files, ALICE);
    const doc = await bundles.get(SYS, version);
    const tampered = doc!.files.map((f) =>
      f.path === 'policies/30-no-deletes.cedar' ? { ...f, content: '// gone\n' } : f,
    );
    await bundles.update(SYS, version, { set: { files: tampered } });

    await expect(store.load(version)).rejects.toBeInstanceOf(BundleIntegrityError);
    await expect(store.load(version)).rejects.toThrow(/hash to sha256:[0-9a-f]+, expected/);
    const result = await store.activate(version, BOB, 'rollout');
    expect(result).toMatchObject({ ok: false, code: 'integrity' });
    expect(await store.pointer()).toBeUndefined();
  });

  it('refuses a bundle stored under another version than its manifest says', async () => {
    const { store, bundles } = newStores();
    await store.push(files, ALICE);
    const doc = await bundles.get(SYS, version);
    const { version: _v, ...fields } = doc!;
    await bundles.insert(SYS, { ...fields, id: '7.0.0' });
    await expect(store.load('7.0.0')).rejects.toThrow(/stored under version 7\.0\.0/);
  });

  it('throws BundleNotFoundError for an unknown version', async () => {
    const { store } = newStores();
    await expect(store.load('0.0.1')).rejects.toBeInstanceOf(BundleNotFoundError);
    await expect(store.load('')).rejects.toBeInstanceOf(BundleNotFoundError);
  });
});

describe('BundleStore.setShadow', () => {
  it('sets and clears the shadow with shadowSet events, keeping the active bundle', async () => {
    const { store, pointers } = newStores();
    await store.push(files, ALICE);
    await store.push(variant(files, '1.0.1'), ALICE);
    expect(await store.setShadow('1.0.1', ALICE, 'try')).toMatchObject({ code: 'not_found' });
    await store.activate(version, BOB, 'initial');

    // The pusher may shadow its own bundle: shadow results never enforce.
    const set = await store.setShadow('1.0.1', ALICE, 'compare 1.0.1', minutes(1));
    expect(set).toMatchObject({ ok: true, status: 'changed' });
    expect(await store.pointer()).toMatchObject({
      active: { version },
      shadow: { version: '1.0.1' },
      shadowSetBy: 'alice',
    });
    expect(await store.setShadow('1.0.1', BOB, 'again')).toMatchObject({ status: 'unchanged' });

    // Activation keeps the shadow.
    await store.push(variant(files, '1.0.2'), ALICE);
    await store.activate('1.0.2', BOB, 'next', minutes(2));
    expect((await store.pointer())?.shadow?.version).toBe('1.0.1');

    const cleared = await store.setShadow(undefined, ALICE, 'done', minutes(3));
    expect(cleared).toMatchObject({ ok: true, status: 'changed' });
    const pointer = await store.pointer();
    expect(pointer?.shadow).toBeUndefined();
    expect(pointer?.active.version).toBe('1.0.2');
    expect(await store.setShadow('', ALICE, 'done')).toMatchObject({ status: 'unchanged' });

    const events = (await controlEvents(pointers)).map((e) => e.event);
    expect(events.map((e) => [e.version, e.change?.$case, e.change?.value])).toEqual([
      ['1', 'bundleActivated', expect.objectContaining({ version })],
      ['2', 'shadowSet', expect.objectContaining({ version: '1.0.1' })],
      ['3', 'bundleActivated', expect.objectContaining({ version: '1.0.2' })],
      ['4', 'shadowSet', { version: '', contentHash: '' }],
    ]);
  });

  it('only lets a policy admin set the shadow, and only to a stored bundle', async () => {
    const { store } = newStores();
    await store.push(files, ALICE);
    await store.activate(version, BOB, 'initial');
    expect(await store.setShadow(version, CAROL, 'x')).toMatchObject({ code: 'forbidden' });
    expect(await store.setShadow('5.0.0', BOB, 'x')).toMatchObject({ code: 'not_found' });
  });
});

describe('BundleStore.seedFromDirectory', () => {
  it('stores and activates the repository bundle in an empty database, once', async () => {
    const { store, pointers, bundles } = newStores();
    const seeded = await store.seedFromDirectory(files, 'system:bootstrap');
    expect(seeded).toMatchObject({ ok: true, status: 'seeded' });
    expect((await bundles.get(SYS, version))?.author).toBe('system:bootstrap');
    expect(await store.pointer()).toMatchObject({
      version: 1,
      active: { version },
      activatedBy: 'system:bootstrap',
    });
    const [event] = (await controlEvents(pointers)).map((e) => e.event);
    expect(event).toMatchObject({
      version: '1',
      actor: 'system:bootstrap',
      change: { $case: 'bundleActivated', value: { version } },
    });
    expect(event.reason).toMatch(/^bootstrap/);

    const again = await store.seedFromDirectory(variant(files, '2.0.0'), 'system:bootstrap');
    expect(again).toMatchObject({ ok: true, status: 'skipped' });
    expect(await bundles.count(SYS)).toBe(1);
    expect(await controlEvents(pointers)).toHaveLength(1);
  });

  it('is a no-op when a pointer exists', async () => {
    const { store, pointers } = newStores();
    await store.push(variant(files, '0.9.0'), ALICE);
    await store.activate('0.9.0', BOB, 'manual');
    expect(await store.seedFromDirectory(files, 'system')).toMatchObject({ status: 'skipped' });
    expect((await store.pointer())?.active.version).toBe('0.9.0');
    expect(await controlEvents(pointers)).toHaveLength(1);
  });

  it('refuses an invalid repository bundle', async () => {
    const { store } = newStores();
    const result = await store.seedFromDirectory(
      variant(files, '1.0.0', { 'schema.cedarschema': undefined }),
      'system',
    );
    expect(result).toMatchObject({ ok: false, code: 'invalid' });
    expect(await store.pointer()).toBeUndefined();
  });
});
