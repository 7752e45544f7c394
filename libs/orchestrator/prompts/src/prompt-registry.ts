/**
 * The prompt registry: content-addressed, versioned prompt templates with a two-person
 * lifecycle, over two collections of the `DocumentStore` port.
 *
 * Storage and consistency (single-document atomic writes only, no transactions):
 * - `prompt_versions` holds one document per version (`${promptId}@${n}`). Content is written
 *   once by `propose` and never changed; lifecycle fields change by compare-and-set on the
 *   document's store version (`expectVersion`).
 * - `prompt_pointers` holds one small document per prompt id naming the active version. Every
 *   change of the active version (activate, rollback, retiring the active version) is ONE
 *   compare-and-set write of that pointer, carrying who, when and why. That write is the commit
 *   point: of two concurrent activations exactly one wins, the other fails with
 *   `PromptConflictError` and changes nothing.
 * - After a pointer write the affected version documents' `status` is brought in line
 *   (`active` / `retired`). If that follow-up is lost (crash, outage) nothing is wrong: readers
 *   derive the effective status from the pointer, and the next operation on the version (or a
 *   retry of the same one) completes it.
 * - Every operation is safe to retry: repeating a completed propose/approve/activate/rollback/
 *   retire with the same arguments returns the same result instead of failing.
 */
import {
  ConcurrencyError,
  DuplicateKeyError,
  MAX_FIND_LIMIT,
  type DocumentStore,
  type UpdateSpec,
  type Versioned,
} from '@mandate/storage';
import { unifiedLineDiff } from './line-diff';
import { assertPromptId, promptContentHash, validatePromptContent } from './prompt-content';
import {
  MAX_POINTER_HISTORY,
  PROMPT_TENANT,
  promptVersionDocId,
  type PromptPointerChangeDoc,
  type PromptPointerDoc,
  type PromptVersionDoc,
} from './prompt.collections';
import {
  NoActivePromptError,
  PromptConflictError,
  PromptIntegrityError,
  PromptLifecycleError,
  PromptNotFoundError,
  PromptValidationError,
} from './prompt.errors';
import {
  MAX_ACTOR_CHARS,
  MAX_DESCRIPTION_CHARS,
  SEED_APPROVER,
  SEED_AUTHOR,
  type PromptActivationChange,
  type PromptContent,
  type PromptStatus,
  type PromptVersion,
} from './prompt.model';

export interface PromptRegistryStores {
  readonly versions: DocumentStore<PromptVersionDoc>;
  readonly pointers: DocumentStore<PromptPointerDoc>;
}

export interface PromptRegistryOptions {
  readonly clock?: () => Date;
  /** Compare-and-set attempts before `PromptConflictError`; default 5. */
  readonly maxAttempts?: number;
}

/** What `seedPrompt` did with one repository prompt. */
export interface PromptSeedResult {
  readonly promptId: string;
  /**
   * `seeded`: the id was new; the file became version 1, approved and activated (bootstrap).
   * `unchanged`: the active version already has the file's content.
   * `proposed`: the file differs from what is active (or the id was already in use); it is a
   * draft waiting for review, or an existing version with the same content (`created: false`).
   */
  readonly outcome: 'seeded' | 'unchanged' | 'proposed';
  readonly created: boolean;
  readonly version: PromptVersion;
}

type ActiveChange =
  | { readonly kind: 'activate' }
  | { readonly kind: 'rollback'; readonly reason: string }
  | { readonly kind: 'bootstrap' };

const RESERVED_ACTORS = new Set([SEED_AUTHOR, SEED_APPROVER].map(actorKey));

export class PromptRegistry {
  private readonly versions: DocumentStore<PromptVersionDoc>;
  private readonly pointers: DocumentStore<PromptPointerDoc>;
  private readonly clock: () => Date;
  private readonly maxAttempts: number;

  constructor(stores: PromptRegistryStores, options: PromptRegistryOptions = {}) {
    this.versions = stores.versions;
    this.pointers = stores.pointers;
    this.clock = options.clock ?? (() => new Date());
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  }

  /**
   * Stores `content` as a new draft version (number = highest + 1) authored by `author`.
   * Content identical to an existing version of this prompt (same content hash, whatever its
   * status) returns that version and writes nothing.
   */
  async propose(promptId: string, content: PromptContent, author: string): Promise<PromptVersion> {
    return (await this.proposeAs(promptId, content, checkActor(author, 'author', false))).version;
  }

  /** draft → approved. The approver must not be the author. */
  async approve(promptId: string, version: number, approver: string): Promise<PromptVersion> {
    return this.approveAs(promptId, version, checkActor(approver, 'approver', false));
  }

  /**
   * approved → active; the previously active version (if any) becomes retired. The actor must
   * not be the author (the approver may activate). A retired version is re-activated with
   * `rollback`. Fails with `PromptConflictError` if the active version changed concurrently.
   */
  async activate(promptId: string, version: number, actor: string): Promise<PromptVersion> {
    return this.changeActive(promptId, version, checkActor(actor, 'actor', false), {
      kind: 'activate',
    });
  }

  /**
   * Re-activates an earlier version (retired, or approved and never activated) that was approved
   * by someone other than its author, recording who and why. The actor must not be that
   * version's author: a rollback is still an activation.
   */
  async rollback(
    promptId: string,
    toVersion: number,
    actor: string,
    reason: string,
  ): Promise<PromptVersion> {
    return this.changeActive(promptId, toVersion, checkActor(actor, 'actor', false), {
      kind: 'rollback',
      reason: checkReason(reason, true) as string,
    });
  }

  /**
   * Withdraws a version. Retiring a draft or approved version keeps it from being activated
   * (a retired version that was approved can still be rolled back to). Retiring the active
   * version leaves the prompt with no active version: its agent stops proposing (`active()`
   * fails) until someone activates or rolls back. Anyone may retire: it only ever takes
   * latitude away.
   */
  async retire(
    promptId: string,
    version: number,
    actor: string,
    reason?: string,
  ): Promise<PromptVersion> {
    const by = checkActor(actor, 'actor', false);
    const why = checkReason(reason, false);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const { doc, pointer } = await this.read(promptId, version);
      const status = effectiveStatus(doc, pointer);
      if (status === 'retired') {
        await this.syncStatus(promptId, version);
        return this.get(promptId, version);
      }
      const at = this.clock();
      if (status === 'active') {
        const change: PromptPointerChangeDoc = withOptional(
          { change: 'retire', fromVersion: version, by, at },
          { reason: why },
        );
        const written = await this.writePointer(promptId, pointer, undefined, change);
        if (!written) continue; // the pointer moved: decide again on fresh state
        await this.syncStatus(promptId, version);
        return this.get(promptId, version);
      }
      const set: Partial<PromptVersionDoc> = withOptional(
        { status: 'retired' as const, retiredBy: by, retiredAt: at },
        { retireReason: why },
      );
      try {
        await this.versions.update(PROMPT_TENANT, doc.id, { set }, { expectVersion: doc.version });
        return this.get(promptId, version);
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
    throw new PromptConflictError(promptId, `version ${version} kept changing while retiring it`);
  }

  /**
   * The active version: what agents render. `NoActivePromptError` if the prompt exists but
   * nothing is active, `PromptNotFoundError` if the prompt does not exist.
   */
  async active(promptId: string): Promise<PromptVersion> {
    assertPromptId(promptId);
    const pointer = await this.pointers.get(PROMPT_TENANT, promptId);
    if (pointer?.activeVersion === undefined) {
      if (pointer || (await this.versions.count(PROMPT_TENANT, { promptId })) > 0) {
        throw new NoActivePromptError(promptId);
      }
      throw new PromptNotFoundError(promptId);
    }
    const doc = await this.versions.get(
      PROMPT_TENANT,
      promptVersionDocId(promptId, pointer.activeVersion),
    );
    if (!doc) throw new PromptNotFoundError(promptId, pointer.activeVersion);
    const version = toPromptVersion(doc, pointer);
    if (version.contentHash !== pointer.activeHash) {
      throw new PromptIntegrityError(promptId, version.version);
    }
    return version;
  }

  /** One version; `PromptNotFoundError` if it does not exist. */
  async get(promptId: string, version: number): Promise<PromptVersion> {
    const { doc, pointer } = await this.read(promptId, version);
    return toPromptVersion(doc, pointer);
  }

  /** Every version of a prompt, oldest first (empty for an unknown id). */
  async list(promptId: string): Promise<PromptVersion[]> {
    assertPromptId(promptId);
    const [docs, pointer] = await Promise.all([
      this.versions.find(
        PROMPT_TENANT,
        { promptId },
        { sort: { promptVersion: 1 }, limit: MAX_FIND_LIMIT },
      ),
      this.pointers.get(PROMPT_TENANT, promptId),
    ]);
    return docs.map((doc) => toPromptVersion(doc, pointer));
  }

  /** The last changes of the active version (activations, rollbacks, retirements), oldest first. */
  async history(promptId: string): Promise<PromptActivationChange[]> {
    assertPromptId(promptId);
    const pointer = await this.pointers.get(PROMPT_TENANT, promptId);
    return (pointer?.history ?? []).map((entry) => ({ ...entry }));
  }

  /** Unified line diff from version `a` to version `b` (variables, description and both parts). */
  async diff(promptId: string, a: number, b: number): Promise<string> {
    const [from, to] = await Promise.all([this.get(promptId, a), this.get(promptId, b)]);
    return unifiedLineDiff(promptDiffText(from), promptDiffText(to), {
      fromLabel: `${promptId}@${a} ${from.contentHash}`,
      toLabel: `${promptId}@${b} ${to.contentHash}`,
    });
  }

  /**
   * Brings one repository prompt into the store (used by `seedFromDirectory`).
   *
   * - A prompt id the store has never activated and holds no other content for: the content
   *   becomes a version authored by `repository`, approved and activated by `repository-seed`.
   *   This is the bootstrap exception to the two-person rule: the text was reviewed in version
   *   control, and there is nothing active to protect yet.
   * - Otherwise the store wins: content equal to the active version changes nothing; different
   *   content is proposed as a draft by `repository`, so a repository change still needs an
   *   approver and an activator other than its author.
   */
  async seedPrompt(promptId: string, content: PromptContent): Promise<PromptSeedResult> {
    assertPromptId(promptId);
    const normalised = validatePromptContent(content);
    const hash = promptContentHash(normalised.template, normalised.variables);
    const pointer = await this.pointers.get(PROMPT_TENANT, promptId);
    if (pointer?.activeHash === hash) {
      return {
        promptId,
        outcome: 'unchanged',
        created: false,
        version: await this.active(promptId),
      };
    }
    const proposeDraft = async (): Promise<PromptSeedResult> => {
      const { version, created } = await this.proposeAs(promptId, normalised, SEED_AUTHOR);
      return { promptId, outcome: 'proposed', created, version };
    };
    if (pointer) return proposeDraft();

    const existing = await this.versions.find(PROMPT_TENANT, { promptId }, { limit: 2 });
    const [only] = existing;
    const bootstrappable =
      existing.length === 0 ||
      (existing.length === 1 &&
        only !== undefined &&
        only.contentHash === hash &&
        actorKey(only.author) === actorKey(SEED_AUTHOR) &&
        (only.status === 'draft' ||
          (only.status === 'approved' &&
            actorKey(only.approvedBy ?? '') === actorKey(SEED_APPROVER))));
    if (!bootstrappable) return proposeDraft();

    const { version, created } = await this.proposeAs(promptId, normalised, SEED_AUTHOR);
    await this.approveAs(promptId, version.version, SEED_APPROVER);
    const after = await this.changeActive(promptId, version.version, SEED_APPROVER, {
      kind: 'bootstrap',
    });
    // Another seeder (or an operator) may have created the pointer meanwhile: then the store wins.
    const outcome = after.status === 'active' ? 'seeded' : 'proposed';
    return { promptId, outcome, created, version: after };
  }

  // ---------------------------------------------------------------------------------------------

  private async proposeAs(
    promptId: string,
    content: PromptContent,
    author: string,
  ): Promise<{ version: PromptVersion; created: boolean }> {
    assertPromptId(promptId);
    const normalised = validatePromptContent(content);
    const contentHash = promptContentHash(normalised.template, normalised.variables);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const [same] = await this.versions.find(
        PROMPT_TENANT,
        { promptId, contentHash },
        { limit: 1 },
      );
      if (same) {
        const pointer = await this.pointers.get(PROMPT_TENANT, promptId);
        return { version: toPromptVersion(same, pointer), created: false };
      }
      const [latest] = await this.versions.find(
        PROMPT_TENANT,
        { promptId },
        { sort: { promptVersion: -1 }, limit: 1 },
      );
      const promptVersion = (latest?.promptVersion ?? 0) + 1;
      const doc: PromptVersionDoc = withOptional(
        {
          id: promptVersionDocId(promptId, promptVersion),
          promptId,
          promptVersion,
          system: normalised.template.system,
          user: normalised.template.user,
          variables: [...normalised.variables],
          contentHash,
          description: normalised.description,
          status: 'draft' as const,
          author,
          createdAt: this.clock(),
        },
        { versionNote: normalised.versionNote },
      );
      try {
        const stored = await this.versions.insert(PROMPT_TENANT, doc);
        return { version: toPromptVersion(stored, null), created: true };
      } catch (err) {
        // Someone took this number, or stored the same content, meanwhile: look again.
        if (!(err instanceof DuplicateKeyError)) throw err;
      }
    }
    throw new PromptConflictError(promptId, 'concurrent proposals kept taking the next version');
  }

  private async approveAs(
    promptId: string,
    version: number,
    approver: string,
  ): Promise<PromptVersion> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const { doc, pointer } = await this.read(promptId, version);
      if (actorKey(approver) === actorKey(doc.author)) {
        throw new PromptLifecycleError(
          promptId,
          version,
          `"${approver}" is its author; approval needs someone other than the author`,
        );
      }
      const status = effectiveStatus(doc, pointer);
      if (status !== 'draft') {
        if (doc.approvedBy !== undefined && actorKey(doc.approvedBy) === actorKey(approver)) {
          return toPromptVersion(doc, pointer); // a retry of an approval that went through
        }
        throw new PromptLifecycleError(
          promptId,
          version,
          `only a draft can be approved; it is ${status}`,
        );
      }
      try {
        const updated = await this.versions.update(
          PROMPT_TENANT,
          doc.id,
          { set: { status: 'approved', approvedBy: approver, approvedAt: this.clock() } },
          { expectVersion: doc.version },
        );
        return toPromptVersion(updated, pointer);
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
    throw new PromptConflictError(promptId, `version ${version} kept changing while approving it`);
  }

  /**
   * Points the prompt at `version` with one compare-and-set write of the pointer. `bootstrap`
   * (seeding only) activates only while the prompt has no pointer at all; it never touches a
   * pointer someone else created.
   */
  private async changeActive(
    promptId: string,
    version: number,
    actor: string,
    how: ActiveChange,
  ): Promise<PromptVersion> {
    const { doc, pointer } = await this.read(promptId, version);
    const status = effectiveStatus(doc, pointer);
    const last = lastChange(pointer);
    if (how.kind === 'bootstrap' && pointer) {
      return toPromptVersion(doc, pointer);
    }
    if (status === 'active') {
      const isRetry =
        how.kind !== 'rollback' ||
        (last?.change === 'rollback' &&
          last.version === version &&
          actorKey(last.by) === actorKey(actor));
      if (!isRetry) {
        throw new PromptLifecycleError(promptId, version, 'is already the active version');
      }
      return this.settle(promptId, version);
    }
    if (actorKey(actor) === actorKey(doc.author)) {
      throw new PromptLifecycleError(
        promptId,
        version,
        `"${actor}" is its author; ${how.kind === 'rollback' ? 'a rollback' : 'activation'} needs someone other than the author`,
      );
    }
    if (how.kind !== 'rollback' && status !== 'approved') {
      throw new PromptLifecycleError(
        promptId,
        version,
        status === 'retired'
          ? 'is retired; re-activate it with rollback'
          : 'is a draft; only an approved version can be activated',
      );
    }
    if (how.kind === 'rollback' && status === 'draft') {
      throw new PromptLifecycleError(
        promptId,
        version,
        'is a draft; a rollback can only return to a version that was approved',
      );
    }
    if (doc.approvedBy === undefined || actorKey(doc.approvedBy) === actorKey(doc.author)) {
      throw new PromptLifecycleError(
        promptId,
        version,
        'was never approved by someone other than its author',
      );
    }

    const change: PromptPointerChangeDoc = withOptional(
      {
        change: how.kind === 'rollback' ? ('rollback' as const) : ('activate' as const),
        version,
        by: actor,
        at: this.clock(),
      },
      {
        fromVersion: pointer?.activeVersion,
        reason: how.kind === 'rollback' ? how.reason : undefined,
      },
    );
    const written = await this.writePointer(promptId, pointer, doc, change);
    if (!written) {
      const now = await this.pointers.get(PROMPT_TENANT, promptId);
      if (now?.activeVersion === version) {
        // A concurrent activation of the same version (or an earlier attempt of this one) won.
        return this.settle(promptId, version);
      }
      if (how.kind === 'bootstrap') {
        return this.get(promptId, version);
      }
      throw new PromptConflictError(
        promptId,
        `the active version changed (now ${now?.activeVersion ?? 'none'}) while making version ${version} active; nothing was changed, re-read and decide again`,
      );
    }
    return this.settle(promptId, version);
  }

  /**
   * One compare-and-set write of the pointer: `insert` when there was none, else a full replace
   * expecting the version that was read. `false` when someone else wrote it first.
   */
  private async writePointer(
    promptId: string,
    current: Versioned<PromptPointerDoc> | null,
    next: Pick<PromptVersionDoc, 'promptVersion' | 'contentHash'> | undefined,
    change: PromptPointerChangeDoc,
  ): Promise<boolean> {
    const doc: PromptPointerDoc = withOptional(
      {
        id: promptId,
        promptId,
        history: [...(current?.history ?? []), change].slice(-MAX_POINTER_HISTORY),
        changedAt: change.at,
      },
      { activeVersion: next?.promptVersion, activeHash: next?.contentHash },
    );
    try {
      if (current) {
        await this.pointers.upsert(PROMPT_TENANT, doc, { expectVersion: current.version });
      } else {
        await this.pointers.insert(PROMPT_TENANT, doc);
      }
      return true;
    } catch (err) {
      if (err instanceof ConcurrencyError || err instanceof DuplicateKeyError) return false;
      throw err;
    }
  }

  /** Completes the follow-up of the last pointer change for `version` and returns it. */
  private async settle(promptId: string, version: number): Promise<PromptVersion> {
    const pointer = await this.pointers.get(PROMPT_TENANT, promptId);
    const from = lastChange(pointer)?.fromVersion;
    await this.syncStatus(promptId, version);
    if (from !== undefined && from !== version) await this.syncStatus(promptId, from);
    return this.get(promptId, version);
  }

  /** Writes the effective status (derived from the pointer) onto the version document. */
  private async syncStatus(promptId: string, version: number): Promise<void> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const { doc, pointer } = await this.read(promptId, version);
      const spec = statusRepair(doc, pointer, this.clock);
      if (!spec) return;
      try {
        await this.versions.update(PROMPT_TENANT, doc.id, spec, { expectVersion: doc.version });
        return;
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
    throw new PromptConflictError(
      promptId,
      `version ${version} kept changing while updating its status`,
    );
  }

  private async read(
    promptId: string,
    version: number,
  ): Promise<{
    doc: Versioned<PromptVersionDoc>;
    pointer: Versioned<PromptPointerDoc> | null;
  }> {
    assertPromptId(promptId);
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new PromptValidationError(['version must be a positive integer']);
    }
    const [doc, pointer] = await Promise.all([
      this.versions.get(PROMPT_TENANT, promptVersionDocId(promptId, version)),
      this.pointers.get(PROMPT_TENANT, promptId),
    ]);
    if (!doc) throw new PromptNotFoundError(promptId, version);
    return { doc, pointer };
  }
}

/** The pointer is the truth for `active`; a stored `active` it no longer names is `retired`. */
export function effectiveStatus(
  doc: Pick<PromptVersionDoc, 'promptVersion' | 'status'>,
  pointer: Pick<PromptPointerDoc, 'activeVersion'> | null,
): PromptStatus {
  if (pointer?.activeVersion === doc.promptVersion) return 'active';
  if (doc.status === 'active') return 'retired';
  return doc.status;
}

/** The text `diff` compares: what a reviewer needs to see, in a stable layout. */
export function promptDiffText(version: PromptVersion): string {
  return [
    `description: ${version.description}`,
    `variables: [${version.variables.join(', ')}]`,
    '',
    '## system',
    '',
    version.template.system,
    '',
    '## user',
    '',
    version.template.user,
    '',
  ].join('\n');
}

function lastChange(pointer: PromptPointerDoc | null): PromptPointerChangeDoc | undefined {
  return pointer?.history[pointer.history.length - 1];
}

/** The change that took `version` out of the active slot (newest first), if still in history. */
function changeThatRetired(
  pointer: PromptPointerDoc | null,
  version: number,
): PromptPointerChangeDoc | undefined {
  const history = pointer?.history ?? [];
  for (let i = history.length - 1; i >= 0; i--) {
    const entry = history[i] as PromptPointerChangeDoc;
    if (entry.fromVersion === version && entry.version !== version) return entry;
  }
  return undefined;
}

/** The lifecycle fields the document should have given the pointer; undefined if in line. */
function statusRepair(
  doc: PromptVersionDoc,
  pointer: PromptPointerDoc | null,
  clock: () => Date,
): UpdateSpec<PromptVersionDoc> | undefined {
  const status = effectiveStatus(doc, pointer);
  const last = lastChange(pointer);
  if (status === 'active' && last) {
    if (doc.status === 'active' && doc.activatedAt?.getTime() === last.at.getTime())
      return undefined;
    const set: Partial<PromptVersionDoc> = {
      status: 'active',
      activatedBy: last.by,
      activatedAt: last.at,
    };
    if (last.change === 'rollback') {
      set.rollback = withOptional(
        { by: last.by, at: last.at, reason: last.reason ?? '' },
        { fromVersion: last.fromVersion },
      );
      return { set };
    }
    return doc.rollback ? { set, unset: ['rollback'] } : { set };
  }
  if (status === 'retired' && doc.status === 'active') {
    const retiredBy = changeThatRetired(pointer, doc.promptVersion);
    const reason =
      retiredBy?.change === 'retire'
        ? retiredBy.reason
        : retiredBy?.version !== undefined
          ? `superseded by version ${retiredBy.version}`
          : undefined;
    return {
      set: withOptional(
        { status: 'retired' as const, retiredAt: retiredBy?.at ?? clock() },
        { retiredBy: retiredBy?.by, retireReason: reason },
      ),
    };
  }
  return undefined;
}

/** Domain view of a stored version: effective status, and content checked against its hash. */
function toPromptVersion(doc: PromptVersionDoc, pointer: PromptPointerDoc | null): PromptVersion {
  const template = { system: doc.system, user: doc.user };
  if (promptContentHash(template, doc.variables) !== doc.contentHash) {
    throw new PromptIntegrityError(doc.promptId, doc.promptVersion);
  }
  // Show the state the document will have once its status is in line with the pointer.
  const repair = statusRepair(doc, pointer, () => doc.retiredAt ?? doc.createdAt);
  const fields: PromptVersionDoc = { ...doc, ...(repair?.set ?? {}) };
  if (repair?.unset?.includes('rollback')) delete fields.rollback;
  return withOptional(
    {
      promptId: fields.promptId,
      version: fields.promptVersion,
      template,
      variables: [...fields.variables],
      description: fields.description,
      contentHash: fields.contentHash,
      status: fields.status,
      author: fields.author,
      createdAt: fields.createdAt,
    },
    {
      versionNote: fields.versionNote,
      approvedBy: fields.approvedBy,
      approvedAt: fields.approvedAt,
      activatedBy: fields.activatedBy,
      activatedAt: fields.activatedAt,
      retiredBy: fields.retiredBy,
      retiredAt: fields.retiredAt,
      retireReason: fields.retireReason,
      rollback: fields.rollback ? { ...fields.rollback } : undefined,
    },
  );
}

/** Case-, width- and space-insensitive identity, so "Alice" cannot approve what "alice " wrote. */
function actorKey(actor: string): string {
  return actor.normalize('NFKC').trim().toLowerCase();
}

function checkActor(value: unknown, role: string, allowReserved: boolean): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > MAX_ACTOR_CHARS) {
    throw new PromptValidationError([
      `${role} must be a non-empty string of at most ${MAX_ACTOR_CHARS} characters`,
    ]);
  }
  if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f')) {
    throw new PromptValidationError([`${role} must not contain control characters`]);
  }
  if (!allowReserved && RESERVED_ACTORS.has(actorKey(value))) {
    throw new PromptValidationError([
      `${role} "${value.trim()}" is reserved for seeding from the repository`,
    ]);
  }
  return value.trim();
}

function checkReason(value: unknown, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new PromptValidationError(['a reason is required (a non-empty string)']);
  }
  if (value.length > MAX_DESCRIPTION_CHARS) {
    throw new PromptValidationError([`reason is longer than ${MAX_DESCRIPTION_CHARS} characters`]);
  }
  return value.trim();
}

/** `base` plus the optional fields that are defined (the store drops `undefined` anyway). */
function withOptional<B extends object, O extends object>(
  base: B,
  optional: O,
): B & { [K in keyof O]?: Exclude<O[K], undefined> } {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) out[key] = value;
  }
  return out as B & { [K in keyof O]?: Exclude<O[K], undefined> };
}
