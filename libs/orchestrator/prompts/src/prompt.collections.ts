import { SYSTEM_TENANT } from '@mandate/messaging';
import { defineCollection, tenantId, type TenantId } from '@mandate/storage';
import type { PromptPointerChangeKind, PromptStatus } from './prompt.model';

/**
 * Prompts are platform-wide: every agent of every tenant uses the same reviewed prompt text
 * (tenant specifics reach the model through variables such as `tenant_rules`). The document
 * store is tenant-scoped by construction, so prompt documents live under the platform's system
 * tenant, as policy bundles do. (`_platform` is not a valid tenant id: ids start with a letter
 * or digit.)
 */
export const PROMPT_TENANT: TenantId = tenantId(SYSTEM_TENANT);

/** One prompt version. Id `${promptId}@${promptVersion}`; content fields are immutable. */
export interface PromptVersionDoc {
  id: string;
  promptId: string;
  /** The prompt's version number (`version` itself is the store's document revision). */
  promptVersion: number;
  system: string;
  user: string;
  /** Sorted. */
  variables: string[];
  contentHash: string;
  description: string;
  versionNote?: string;
  /**
   * Lifecycle status as last written. For `active` (and a superseded `active`) the pointer is
   * the truth: readers derive the effective status from it, and writers bring this field in
   * line after every pointer change (see `PromptRegistry`).
   */
  status: PromptStatus;
  author: string;
  createdAt: Date;
  approvedBy?: string;
  approvedAt?: Date;
  activatedBy?: string;
  activatedAt?: Date;
  retiredBy?: string;
  retiredAt?: Date;
  retireReason?: string;
  rollback?: { by: string; at: Date; reason: string; fromVersion?: number };
}

/** One change of the active version, kept on the pointer (newest last). */
export interface PromptPointerChangeDoc {
  change: PromptPointerChangeKind;
  version?: number;
  fromVersion?: number;
  by: string;
  at: Date;
  reason?: string;
}

/**
 * The small per-prompt document that says which version is active (id = prompt id). Changing
 * the active version is one compare-and-set write of this document; it is created by the first
 * activation.
 */
export interface PromptPointerDoc {
  id: string;
  promptId: string;
  /** Absent when the active version was retired and nothing replaced it. */
  activeVersion?: number;
  activeHash?: string;
  /** The last `MAX_POINTER_HISTORY` changes, oldest first; never empty. */
  history: PromptPointerChangeDoc[];
  changedAt: Date;
}

/** Changes kept on a pointer; older ones drop off (the ledger keeps proposals' prompt refs). */
export const MAX_POINTER_HISTORY = 100;

export const PROMPT_VERSIONS = defineCollection<PromptVersionDoc>({
  name: 'prompt_versions',
  indexes: [
    {
      name: 'by_prompt_version',
      keys: { promptId: 1, promptVersion: 1 },
      unique: true,
      why: 'list() reads a prompt in version order and propose() takes the highest number + 1; unique so two proposals can never share a number.',
    },
    {
      name: 'by_prompt_content',
      keys: { promptId: 1, contentHash: 1 },
      unique: true,
      why: 'Content addressing: proposing existing content returns that version; unique so concurrent identical proposals collapse into one version.',
    },
  ],
});

export const PROMPT_POINTERS = defineCollection<PromptPointerDoc>({
  name: 'prompt_pointers',
  indexes: [],
});

export function promptVersionDocId(promptId: string, version: number): string {
  return `${promptId}@${version}`;
}
