import type { PolicyControlEvent } from '@mandate/contracts';
import type { BundleRegistry } from '../cedar/bundle.registry';
import type { PolicyBundle } from '../cedar/policy-bundle.model';
import {
  BundleIntegrityError,
  BundleNotFoundError,
  type BundlePointerRef,
  type BundleStore,
} from './bundle-store';

/**
 * What one sync did to a registry:
 * - `activated`: a new bundle was loaded, accepted and now serves;
 * - `unchanged`: the pointed-to bundle already serves and was confirmed (kept fresh);
 * - `refused`: the pointed-to bundle could not be loaded or was refused; the last good one keeps
 *   serving but is not confirmed (it turns stale, and the engine denies, after `maxAgeMs`);
 * - `unavailable`: the store could not be read; nothing was confirmed;
 * - `none`: the pointer names no bundle (empty database; for the shadow: not shadowing);
 * - `cleared`: shadowing stopped with this sync.
 */
export type BundleSyncOutcome =
  'unchanged' | 'activated' | 'refused' | 'unavailable' | 'none' | 'cleared';

export interface BundleSyncStatus {
  active: BundleSyncOutcome;
  shadow: BundleSyncOutcome;
  /** Why something was refused or unavailable (empty when all is well). */
  errors: string[];
}

export interface BundleSyncLogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  registry?: 'active' | 'shadow';
  version?: string;
}

export interface BundleSyncOptions {
  store: BundleStore;
  /** The registry the engine enforces with. */
  active: BundleRegistry;
  /** The registry shadow evaluation runs with. */
  shadow: BundleRegistry;
  log?: (entry: BundleSyncLogEntry) => void;
}

type Slot = 'active' | 'shadow';

const MAX_REMEMBERED_REFUSALS = 100;

/**
 * Keeps one replica's registries in line with the bundle pointer in the store. Call `sync`
 * periodically (well within the registry's `maxAgeMs`) and on every bundle control event
 * (`applyControl`). The store is the truth: events only trigger a sync, so a lost, duplicated
 * or reordered event cannot make a replica serve the wrong bundle. Never confirms a bundle it
 * could not check against the store, so an unreachable store ends in STALE_BUNDLE denials.
 */
export class BundleSync {
  private readonly store: BundleStore;
  private readonly registries: Record<Slot, BundleRegistry>;
  private readonly log: (entry: BundleSyncLogEntry) => void;
  /** The shadow registry cannot be emptied: whether the pointer currently names a shadow. */
  private shadowing = false;
  /** Refs whose bundle the registry refused (validation is deterministic): not re-validated. */
  private readonly refused = new Map<string, string[]>();

  constructor(options: BundleSyncOptions) {
    this.store = options.store;
    this.registries = { active: options.active, shadow: options.shadow };
    this.log = options.log ?? (() => undefined);
  }

  /** True when the pointer names a shadow bundle and the shadow registry serves it. */
  shadowActive(): boolean {
    return this.shadowing && this.registries.shadow.active() !== undefined;
  }

  async sync(now: Date = new Date()): Promise<BundleSyncStatus> {
    let pointer;
    try {
      pointer = await this.store.pointer();
    } catch (err) {
      const message = `bundle store unavailable: ${errorMessage(err)}`;
      this.log({ level: 'error', message });
      return { active: 'unavailable', shadow: 'unavailable', errors: [message] };
    }
    const errors: string[] = [];
    const active = await this.syncSlot('active', pointer?.active, now, errors);
    let shadow: BundleSyncOutcome;
    if (pointer?.shadow) {
      shadow = await this.syncSlot('shadow', pointer.shadow, now, errors);
      // Unavailable keeps the previous state: a store hiccup does not toggle shadowing.
      if (shadow === 'activated' || shadow === 'unchanged') this.shadowing = true;
    } else {
      shadow = this.shadowing ? 'cleared' : 'none';
      if (this.shadowing)
        this.log({ level: 'info', message: 'shadowing stopped', registry: 'shadow' });
      this.shadowing = false;
    }
    return { active, shadow, errors };
  }

  /**
   * Applies a control event: bundle events trigger a sync (other kinds are ignored and return
   * undefined). When the registry then serves the event's version with another content hash
   * than the event names, the mismatch is reported.
   */
  async applyControl(
    event: PolicyControlEvent,
    now: Date = new Date(),
  ): Promise<BundleSyncStatus | undefined> {
    const change = event.change;
    if (change?.$case !== 'bundleActivated' && change?.$case !== 'shadowSet') return undefined;
    const status = await this.sync(now);
    const ref = change.value;
    const slot: Slot = change.$case === 'bundleActivated' ? 'active' : 'shadow';
    const serving = this.registries[slot].active()?.identity;
    if (
      ref?.version &&
      serving?.version === ref.version &&
      serving.contentHash !== ref.contentHash
    ) {
      const message =
        `control event ${event.eventId} names ${slot} bundle ${ref.version} with ${ref.contentHash}, ` +
        `but the store's bundle ${serving.version} has ${serving.contentHash}`;
      this.log({ level: 'error', message, registry: slot, version: ref.version });
      status.errors.push(message);
    }
    return status;
  }

  private async syncSlot(
    slot: Slot,
    ref: BundlePointerRef | undefined,
    now: Date,
    errors: string[],
  ): Promise<BundleSyncOutcome> {
    if (!ref) return 'none';
    const registry = this.registries[slot];
    const serving = registry.active()?.identity;
    if (serving && serving.version === ref.version && serving.contentHash === ref.contentHash) {
      registry.confirm(now);
      return 'unchanged';
    }
    const key = `${ref.version}\n${ref.contentHash}`;
    const known = this.refused.get(key);
    if (known) {
      errors.push(...known);
      return 'refused';
    }
    let bundle: PolicyBundle;
    try {
      bundle = await this.store.load(ref.version);
    } catch (err) {
      const message = `${slot} bundle ${ref.version}: ${errorMessage(err)}`;
      errors.push(message);
      const refusedLoad = err instanceof BundleIntegrityError || err instanceof BundleNotFoundError;
      this.log({ level: 'error', message, registry: slot, version: ref.version });
      return refusedLoad ? 'refused' : 'unavailable';
    }
    if (bundle.contentHash !== ref.contentHash) {
      const message =
        `${slot} bundle ${ref.version}: the pointer names ${ref.contentHash}, ` +
        `the stored bundle has ${bundle.contentHash}`;
      errors.push(message);
      this.log({ level: 'error', message, registry: slot, version: ref.version });
      return 'refused';
    }
    const offered = registry.offer(bundle, now);
    if (!offered.ok) {
      const messages = offered.errors.map((e) => `${slot} bundle ${ref.version}: ${e}`);
      if (this.refused.size >= MAX_REMEMBERED_REFUSALS) this.refused.clear();
      this.refused.set(key, messages);
      errors.push(...messages);
      this.log({
        level: 'error',
        message: `${slot} bundle ${ref.version} refused (${offered.serving ? `still serving ${offered.serving.version}` : 'no bundle serving'}): ${offered.errors.join('; ')}`,
        registry: slot,
        version: ref.version,
      });
      return 'refused';
    }
    this.log({
      level: 'info',
      message: `${slot} bundle ${ref.version} ${offered.status} (${ref.contentHash})`,
      registry: slot,
      version: ref.version,
    });
    return offered.status === 'activated' ? 'activated' : 'unchanged';
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
