import type { PolicyControlEvent } from '@mandate/contracts';
import { SYSTEM_TENANT } from '@mandate/messaging';
import { StorageUnavailableError, tenantId } from '@mandate/storage';
import { BundleRegistry } from '../cedar/bundle.registry';
import { bundleContentHash } from '../cedar/bundle-content-hash';
import { DEAL_DESK, discount, input } from '../cedar/cedar-test.fixtures';
import { CedarReason } from '../cedar/reason-codes';
import { BundleSync, type BundleSyncLogEntry } from './bundle-sync';
import {
  ALICE,
  BOB,
  loadDefaultFiles,
  minutes,
  newStores,
  T0,
  variant,
} from './bundle-store.fixtures';

const SYS = tenantId(SYSTEM_TENANT);
const MAX_AGE_MS = 5 * 60_000;

let files: Record<string, string>;
let version: string;
beforeAll(async () => {
  files = await loadDefaultFiles();
  version = (JSON.parse(files['bundle.json']) as { version: string }).version;
});

async function setup() {
  const stores = newStores();
  await stores.store.push(files, ALICE);
  await stores.store.push(variant(files, '1.0.1'), ALICE);
  await stores.store.activate(version, BOB, 'initial');
  const active = new BundleRegistry();
  const shadow = new BundleRegistry();
  const log: BundleSyncLogEntry[] = [];
  const sync = new BundleSync({
    store: stores.store,
    active,
    shadow,
    log: (e) => log.push(e),
  });
  return { ...stores, active, shadow, sync, log };
}

describe('BundleSync.sync', () => {
  it('activates the pointed-to bundle, then confirms it on every sync', async () => {
    const { sync, active } = await setup();
    expect(await sync.sync(T0)).toEqual({ active: 'activated', shadow: 'none', errors: [] });
    expect(active.active()?.identity).toEqual({
      name: 'mandate-default-b2b-crm',
      version,
      contentHash: bundleContentHash(files),
    });
    expect(await sync.sync(minutes(4))).toEqual({
      active: 'unchanged',
      shadow: 'none',
      errors: [],
    });
    expect(active.active()?.confirmedAt).toEqual(minutes(4));
    expect(active.active()?.activatedAt).toEqual(T0);
    expect(active.stale(minutes(8), MAX_AGE_MS)).toBe(false);
  });

  it('switches to a newly activated bundle', async () => {
    const { sync, active, store } = await setup();
    await sync.sync(T0);
    await store.activate('1.0.1', BOB, 'next');
    expect((await sync.sync(minutes(1))).active).toBe('activated');
    expect(active.active()?.identity.version).toBe('1.0.1');
  });

  it('reports an empty database and serves nothing', async () => {
    const { store } = newStores();
    const active = new BundleRegistry();
    const sync = new BundleSync({ store, active, shadow: new BundleRegistry() });
    expect(await sync.sync(T0)).toEqual({ active: 'none', shadow: 'none', errors: [] });
    expect(active.active()).toBeUndefined();
  });

  it('keeps the last good bundle serving, unconfirmed, when the new one is refused', async () => {
    const { sync, active, bundles, pointers, log } = await setup();
    await sync.sync(T0);
    // A bundle that never went through push (written straight to the database), consistent
    // hash but an invalid policy: the replica's own validation refuses it.
    const bad = variant(files, '6.6.6', {
      'policies/99-bad.cedar':
        '@id("bad")\n@reason("BAD")\nforbid (principal, action, resource) when { principal.nope };',
    });
    const hash = bundleContentHash(bad);
    await bundles.insert(SYS, {
      id: '6.6.6',
      name: 'bad',
      files: Object.keys(bad)
        .sort()
        .map((path) => ({ path, content: bad[path] })),
      contentHash: hash,
      author: 'mallory',
      manifestAuthor: 'mallory',
      manifestApprover: 'mallory2',
      manifestCreatedAt: '2025-01-01T00:00:00Z',
      createdAt: T0,
      description: 'bad',
    });
    const pointer = await pointers.get(SYS, 'pointer');
    await pointers.update(
      SYS,
      'pointer',
      { set: { active: { version: '6.6.6', contentHash: hash } } },
      {
        expectVersion: pointer!.version,
      },
    );

    const status = await sync.sync(minutes(1));
    expect(status.active).toBe('refused');
    expect(status.errors.join('\n')).toMatch(/active bundle 6\.6\.6: .*nope/);
    expect(active.active()?.identity.version).toBe(version);
    expect(active.active()?.confirmedAt).toEqual(T0);
    expect(log.some((e) => e.level === 'error' && e.version === '6.6.6')).toBe(true);
    // Remembered: not validated again, still refused, still not confirmed.
    const again = await sync.sync(minutes(2));
    expect(again.active).toBe('refused');
    expect(active.active()?.confirmedAt).toEqual(T0);
    expect(active.stale(minutes(6), MAX_AGE_MS)).toBe(true);
  });

  it('refuses a pointed-to bundle whose stored files were tampered with', async () => {
    const { sync, active, store, bundles } = await setup();
    await sync.sync(T0);
    await store.activate('1.0.1', BOB, 'next');
    const doc = await bundles.get(SYS, '1.0.1');
    await bundles.update(SYS, '1.0.1', {
      set: { files: doc!.files.filter((f) => f.path !== 'policies/30-no-deletes.cedar') },
    });
    const status = await sync.sync(minutes(1));
    expect(status.active).toBe('refused');
    expect(status.errors[0]).toMatch(/1\.0\.1.*integrity/);
    expect(active.active()?.identity.version).toBe(version);
    expect(active.active()?.confirmedAt).toEqual(T0);
  });

  it('does not confirm when the store is unreachable, so the engine denies STALE_BUNDLE', async () => {
    const { sync, active, store, bundles } = await setup();
    await sync.sync(T0);
    const down = jest
      .spyOn(store, 'pointer')
      .mockRejectedValue(new StorageUnavailableError('connection refused'));
    const status = await sync.sync(minutes(3));
    expect(status).toEqual({
      active: 'unavailable',
      shadow: 'unavailable',
      errors: ['bundle store unavailable: connection refused'],
    });
    expect(active.active()?.confirmedAt).toEqual(T0);
    const later = minutes(6);
    const outcome = active.evaluate(input(discount(10), DEAL_DESK, {}, { now: later }), {
      maxAgeMs: MAX_AGE_MS,
    });
    expect(outcome).toMatchObject({ decision: 'deny', reasonCodes: [CedarReason.STALE_BUNDLE] });
    down.mockRestore();

    // The bundle cannot be read either (pointer readable): unavailable, not confirmed.
    await store.activate('1.0.1', BOB, 'next');
    const get = jest
      .spyOn(bundles, 'get')
      .mockRejectedValue(new StorageUnavailableError('timeout'));
    expect((await sync.sync(minutes(7))).active).toBe('unavailable');
    expect(active.active()?.identity.version).toBe(version);
    get.mockRestore();

    // Back: the next sync catches up and the registry is fresh again.
    expect((await sync.sync(minutes(8))).active).toBe('activated');
    expect(active.stale(minutes(8), MAX_AGE_MS)).toBe(false);
  });

  it('runs, replaces and stops the shadow bundle', async () => {
    const { sync, active, shadow, store } = await setup();
    await sync.sync(T0);
    expect(sync.shadowActive()).toBe(false);

    await store.setShadow('1.0.1', ALICE, 'compare');
    expect(await sync.sync(minutes(1))).toEqual({
      active: 'unchanged',
      shadow: 'activated',
      errors: [],
    });
    expect(sync.shadowActive()).toBe(true);
    expect(shadow.active()?.identity.version).toBe('1.0.1');
    expect(active.active()?.identity.version).toBe(version);
    expect((await sync.sync(minutes(2))).shadow).toBe('unchanged');
    expect(shadow.active()?.confirmedAt).toEqual(minutes(2));

    await store.setShadow(undefined, ALICE, 'done');
    expect((await sync.sync(minutes(3))).shadow).toBe('cleared');
    expect(sync.shadowActive()).toBe(false);
    expect((await sync.sync(minutes(4))).shadow).toBe('none');
    expect(active.active()?.identity.version).toBe(version);
  });
});

describe('BundleSync.applyControl', () => {
  it('syncs on bundle events and ignores other control events', async () => {
    const { sync, active, store, shadow } = await setup();
    const activated = await store.activate('1.0.1', BOB, 'next');
    if (!activated.ok || !activated.event) throw new Error('activation failed');
    expect(await sync.applyControl(activated.event, T0)).toEqual({
      active: 'activated',
      shadow: 'none',
      errors: [],
    });
    expect(active.active()?.identity.version).toBe('1.0.1');

    const shadowed = await store.setShadow(version, ALICE, 'compare');
    if (!shadowed.ok || !shadowed.event) throw new Error('shadow failed');
    expect((await sync.applyControl(shadowed.event, minutes(1)))?.shadow).toBe('activated');
    expect(shadow.active()?.identity.version).toBe(version);

    const killSwitch: PolicyControlEvent = {
      ...activated.event,
      change: {
        $case: 'killSwitchSet',
        value: { scope: 'global', tenantId: '', agentId: '', actionType: '', mode: 'deny' },
      },
    };
    expect(await sync.applyControl(killSwitch, minutes(2))).toBeUndefined();
  });

  it('trusts the store over the event, and reports a content hash mismatch', async () => {
    const { sync, active, store } = await setup();
    const activated = await store.activate('1.0.1', BOB, 'next');
    if (!activated.ok || !activated.event) throw new Error('activation failed');
    const forged: PolicyControlEvent = {
      ...activated.event,
      change: {
        $case: 'bundleActivated',
        value: { version: '1.0.1', contentHash: `sha256:${'0'.repeat(64)}` },
      },
    };
    const status = await sync.applyControl(forged, T0);
    expect(status?.active).toBe('activated');
    expect(active.active()?.identity.contentHash).toBe(bundleContentHash(variant(files, '1.0.1')));
    expect(status?.errors).toEqual([
      expect.stringMatching(/names active bundle 1\.0\.1 with sha256:0+/),
    ]);

    // A stale event (an older version) still converges on the pointer.
    const old: PolicyControlEvent = {
      ...activated.event,
      change: { $case: 'bundleActivated', value: { version, contentHash: 'x' } },
    };
    expect((await sync.applyControl(old, minutes(1)))?.active).toBe('unchanged');
    expect(active.active()?.identity.version).toBe('1.0.1');
  });
});
