// Shared by the bundle-store specs (not exported).
import { resolve } from 'node:path';
import { PolicyControlEvent } from '@mandate/contracts';
import { InMemoryDocumentStore } from '@mandate/storage';
import { POLICY_ADMIN_ROLE, type Principal } from '../autonomy/control-authorizer';
import { readBundleFiles } from '../cedar/bundle-directory.loader';
import {
  BundleStore,
  POLICY_BUNDLE_POINTER,
  POLICY_BUNDLES,
  type BundlePointerDoc,
  type StoredBundleDoc,
} from './bundle-store';

export const DEFAULT_BUNDLE_DIR = resolve(__dirname, '../../../bundles/default');

export const ALICE: Principal = { id: 'alice', roles: [POLICY_ADMIN_ROLE] };
export const BOB: Principal = { id: 'bob', roles: [POLICY_ADMIN_ROLE] };
export const CAROL: Principal = { id: 'carol', roles: ['supervisor'], tenantId: 'acme' };

export const T0 = new Date('2025-03-03T10:00:00Z');
export const minutes = (n: number, from: Date = T0) => new Date(from.getTime() + n * 60_000);

export const loadDefaultFiles = () => readBundleFiles(DEFAULT_BUNDLE_DIR);

/** The default bundle's files under another version, with files added, replaced or removed. */
export function variant(
  files: Record<string, string>,
  version: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const manifest = JSON.parse(files['bundle.json']) as Record<string, unknown>;
  const out: Record<string, string> = {
    ...files,
    'bundle.json': JSON.stringify({ ...manifest, version }, null, 2),
  };
  for (const [path, text] of Object.entries(overrides)) {
    if (text === undefined) delete out[path];
    else out[path] = text;
  }
  return out;
}

export function newStores(clock: () => Date = () => T0) {
  const bundles = new InMemoryDocumentStore<StoredBundleDoc>(POLICY_BUNDLES);
  const pointers = new InMemoryDocumentStore<BundlePointerDoc>(POLICY_BUNDLE_POINTER);
  return { bundles, pointers, store: new BundleStore(bundles, pointers, clock) };
}

/** Every control event written with the pointer (none is relayed in these tests), in order. */
export async function controlEvents(pointers: InMemoryDocumentStore<BundlePointerDoc>) {
  const pending = await pointers.pendingOutbox({ limit: 10 });
  return pending
    .flatMap((p) => p.entries)
    .map((entry) => ({ entry, event: PolicyControlEvent.decode(entry.payload) }));
}
