import type { DecisionInput } from '../engine/decision-input';
import { CedarEvaluator, deniedOutcome, type CedarOutcome } from './cedar.evaluator';
import { bundleIdentity, type BundleIdentity, type PolicyBundle } from './policy-bundle.model';
import { CedarReason } from './reason-codes';

/** The bundle serving decisions, with its evaluator and freshness. */
export interface ActiveBundle {
  bundle: PolicyBundle;
  evaluator: CedarEvaluator;
  identity: BundleIdentity;
  activatedAt: Date;
  /** Last time its source confirmed it is still the bundle to serve (offer or `confirm`). */
  confirmedAt: Date;
  warnings: string[];
}

export type BundleOfferResult =
  | { ok: true; status: 'activated' | 'unchanged'; bundle: BundleIdentity; warnings: string[] }
  | { ok: false; errors: string[]; serving: BundleIdentity | undefined };

/**
 * Holds the active (last good) policy bundle. An offered bundle is validated and activated, or
 * refused with the validator's messages while the previous one keeps serving. Freshness: the
 * source (directory watcher, MongoDB poller) offers or `confirm`s the bundle periodically; when
 * it has not for `maxAgeMs` the bundle is stale and `evaluate` denies (a revoked permission
 * must not live on because the bundle store is unreachable).
 */
export class BundleRegistry {
  private current: ActiveBundle | undefined;
  /** version → content hash of every bundle ever accepted: a version never changes content. */
  private readonly versions = new Map<string, string>();

  offer(bundle: PolicyBundle, now: Date = new Date()): BundleOfferResult {
    const serving = this.current?.identity;
    if (serving && serving.contentHash === bundle.contentHash) {
      this.current = { ...(this.current as ActiveBundle), confirmedAt: now };
      return { ok: true, status: 'unchanged', bundle: serving, warnings: [] };
    }
    const known = this.versions.get(bundle.manifest.version);
    if (known !== undefined && known !== bundle.contentHash)
      return {
        ok: false,
        errors: [
          `version ${bundle.manifest.version} was accepted before with content ${known}; ` +
            `this bundle has ${bundle.contentHash} (bump the version)`,
        ],
        serving,
      };
    const built = CedarEvaluator.fromBundle(bundle);
    if (!built.ok) return { ok: false, errors: built.errors, serving };
    const identity = bundleIdentity(bundle);
    this.versions.set(identity.version, identity.contentHash);
    this.current = {
      bundle,
      evaluator: built.evaluator,
      identity,
      activatedAt: now,
      confirmedAt: now,
      warnings: built.warnings,
    };
    return { ok: true, status: 'activated', bundle: identity, warnings: built.warnings };
  }

  /** The source was checked at `now` and the active bundle is still current. */
  confirm(now: Date = new Date()): void {
    if (this.current) this.current = { ...this.current, confirmedAt: now };
  }

  active(): ActiveBundle | undefined {
    return this.current;
  }

  /** Milliseconds since the active bundle was last confirmed; undefined without a bundle. */
  age(now: Date): number | undefined {
    return this.current ? now.getTime() - this.current.confirmedAt.getTime() : undefined;
  }

  /** True without a bundle, or when it was last confirmed more than `maxAgeMs` before `now`. */
  stale(now: Date, maxAgeMs: number): boolean {
    const age = this.age(now);
    return age === undefined || !(age <= maxAgeMs);
  }

  /** Evaluates with the active bundle; denies NO_BUNDLE / STALE_BUNDLE instead of guessing. */
  evaluate(input: DecisionInput, options: { maxAgeMs: number }): CedarOutcome {
    if (!this.current)
      return deniedOutcome([CedarReason.NO_BUNDLE], ['no policy bundle is active']);
    if (this.stale(input.now, options.maxAgeMs))
      return deniedOutcome(
        [CedarReason.STALE_BUNDLE],
        [
          `bundle ${this.current.identity.version} last confirmed ${this.current.confirmedAt.toISOString()}, ` +
            `older than ${options.maxAgeMs} ms`,
        ],
      );
    return this.current.evaluator.evaluate(input);
  }
}
