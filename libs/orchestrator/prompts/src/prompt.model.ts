import type { PromptRef } from '@mandate/contracts';

/**
 * Lifecycle of one prompt version:
 * - `draft`: proposed; `approve` (by someone other than the author) makes it `approved`.
 * - `approved`: `activate` (by someone other than the author) makes it `active`.
 * - `active`: at most one per prompt id. Activating or rolling back to another version, or
 *   retiring it, makes it `retired`.
 * - `retired`: never activated again by `activate`; `rollback` re-activates it if it had been
 *   approved. Drafts and approved versions can be retired (withdrawn) too.
 */
export type PromptStatus = 'draft' | 'approved' | 'active' | 'retired';

export const PROMPT_STATUSES: readonly PromptStatus[] = ['draft', 'approved', 'active', 'retired'];

/** The two messages a model receives. Placeholders are `{{name}}` (lower snake case). */
export interface PromptTemplate {
  readonly system: string;
  readonly user: string;
}

/**
 * What an author proposes. `template` and `variables` are the content (hashed);
 * `description` and `versionNote` are metadata stored with the version, not hashed.
 */
export interface PromptContent {
  readonly template: PromptTemplate;
  /** Every placeholder the template uses, each exactly once; order does not matter. */
  readonly variables: readonly string[];
  readonly description: string;
  /** Free text, e.g. the `version:` line of a seed file ("3: adds quiet hours"). */
  readonly versionNote?: string;
}

/** A rollback that (re-)activated a version. */
export interface PromptRollbackRecord {
  readonly by: string;
  readonly at: Date;
  readonly reason: string;
  /** The version that was active before the rollback, if any. */
  readonly fromVersion?: number;
}

/** One immutable revision of a prompt, with its lifecycle metadata. */
export interface PromptVersion {
  readonly promptId: string;
  /** 1, 2, … per prompt id, assigned by the registry in proposal order. */
  readonly version: number;
  readonly template: PromptTemplate;
  /** Sorted. */
  readonly variables: readonly string[];
  readonly description: string;
  readonly versionNote?: string;
  /** `sha256:<lower-case hex>` of the canonical encoding (see `promptContentHash`). */
  readonly contentHash: string;
  readonly status: PromptStatus;
  readonly author: string;
  readonly createdAt: Date;
  readonly approvedBy?: string;
  readonly approvedAt?: Date;
  /** The last activation (or rollback) that made this version active. */
  readonly activatedBy?: string;
  readonly activatedAt?: Date;
  readonly retiredBy?: string;
  readonly retiredAt?: Date;
  readonly retireReason?: string;
  /** Present when the last activation of this version was a rollback. */
  readonly rollback?: PromptRollbackRecord;
}

export type PromptPointerChangeKind = 'activate' | 'rollback' | 'retire';

/** One change of a prompt's active version, as kept on its pointer. */
export interface PromptActivationChange {
  readonly change: PromptPointerChangeKind;
  /** The active version after the change (absent when the active version was retired). */
  readonly version?: number;
  /** The active version before the change. */
  readonly fromVersion?: number;
  readonly by: string;
  readonly at: Date;
  readonly reason?: string;
}

/** Identity a proposal records for the exact prompt text its agent used. */
export function promptRef(
  version: Pick<PromptVersion, 'promptId' | 'version' | 'contentHash'>,
): PromptRef {
  return { promptId: version.promptId, version: version.version, contentHash: version.contentHash };
}

/** `lead-qualification`: lower-case words joined by single hyphens, at most 64 characters. */
export const PROMPT_ID_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const MAX_PROMPT_ID_LENGTH = 64;
/** Variable (placeholder) names: lower snake case. */
export const VARIABLE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Per template part; far below the 16 MiB document limit, and keeps diffs cheap. */
export const MAX_TEMPLATE_PART_CHARS = 64 * 1024;
export const MAX_VARIABLES = 32;
export const MAX_DESCRIPTION_CHARS = 1000;
export const MAX_ACTOR_CHARS = 200;

/**
 * The bootstrap identities of `seedFromDirectory`: repository files are authored by
 * `repository` and, only when a prompt id is new, approved and activated by `repository-seed`.
 * The registry's public methods refuse both names as actors, so nobody can claim them.
 */
export const SEED_AUTHOR = 'repository';
export const SEED_APPROVER = 'repository-seed';
