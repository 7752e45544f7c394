/**
 * Policy bundles in the document store, and the one pointer that says which bundle every policy
 * replica enforces (and which one, if any, it runs in shadow).
 *
 * Lifecycle:
 *  1. `push` — a policy admin uploads a bundle's files. They are parsed and fully validated
 *     (Cedar strict validation against the bundle's own schema, risk.json, matrix.json and the
 *     bundle's own policy tests). A bundle with any problem is refused with every message and
 *     nothing is stored. A stored version is immutable: the same content again is a no-op, other
 *     content under the same version is refused (bump the version).
 *  2. `activate` — a second policy admin, never the one who pushed it (two-person rule), points
 *     the pointer at the version. The bundle is re-verified (content hash, validation) first. The
 *     pointer is written with compare-and-set on its version and, in the same atomic write, an
 *     outbox message: a `PolicyControlEvent` `bundleActivated` on `Topics.policyControl` whose
 *     `version` is the pointer document's new version (monotonic).
 *  3. Every replica consumes the control event and runs `BundleSync.sync`: it reads the pointer
 *     (the store is the truth, not the event payload), loads the bundle, re-checks its content
 *     hash and offers it to its `BundleRegistry`, which validates it once more before it serves.
 *     A refused bundle leaves the last good one serving.
 *  4. A periodic `sync` confirms that the serving bundle is still the pointed-to one, which keeps
 *     the registry fresh. When the store is unreachable nothing is confirmed: after `maxAgeMs` the
 *     registry is stale and the engine denies with STALE_BUNDLE (fail closed — a revoked
 *     permission must not live on because the bundle store is down).
 *
 * Shadow: `setShadow` names a stored bundle that replicas evaluate beside the active one without
 * enforcing it (`shadowSet` event; an empty version stops shadowing). It changes no enforcement,
 * so one policy admin suffices.
 *
 * Bootstrap: `seedFromDirectory` stores the repository's bundle (already reviewed in version
 * control; its manifest names an approver other than its author) and points to it, only when the
 * database has no pointer yet. The seed is announced with the same control event.
 *
 * All documents live under the system tenant (`SYSTEM_TENANT`): bundles are platform-wide.
 * Files are stored as an array of `{ path, content }` (file names contain '.' and '/', which are
 * not portable as document keys, e.g. on FerretDB). Bad input is refused with a result value;
 * storage failures (unreachable database) are thrown.
 */
import { createHash } from 'node:crypto';
import type { PolicyControlEvent } from '@mandate/contracts';
import { outboxMessage, SYSTEM_TENANT, Topics } from '@mandate/messaging';
import {
  ConcurrencyError,
  defineCollection,
  DuplicateKeyError,
  MAX_FIND_LIMIT,
  tenantId,
  type DocumentStore,
  type Versioned,
} from '@mandate/storage';
import { POLICY_ADMIN_ROLE, type Principal } from '../autonomy/control-authorizer';
import { bundleContentHash } from '../cedar/bundle-content-hash';
import { parseBundle } from '../cedar/bundle.parser';
import {
  bundleIdentity,
  type BundleIdentity,
  type PolicyBundle,
} from '../cedar/policy-bundle.model';
import { checkBundle, checkBundleFiles } from './bundle-check';

/** One file of a stored bundle. */
export interface BundleFileEntry {
  /** Posix path relative to the bundle root, e.g. "policies/40-discounts.cedar". */
  path: string;
  content: string;
}

/** One stored bundle version (immutable once written). */
export interface StoredBundleDoc {
  /** The bundle version (bundle.json "version"). */
  id: string;
  /** bundle.json "name". */
  name: string;
  /** Every file, sorted by path: what `parseBundle` takes, as an array. */
  files: BundleFileEntry[];
  /** "sha256:<hex>" over the files (`bundleContentHash`). */
  contentHash: string;
  /** Id of the principal who pushed it (the two-person rule compares against this). */
  author: string;
  /** bundle.json "author" / "approver" / "createdAt": what the file claims, kept for audit. */
  manifestAuthor: string;
  manifestApprover: string;
  manifestCreatedAt: string;
  /** When it was pushed. */
  createdAt: Date;
  description: string;
}

/** Names a stored bundle. */
export interface BundlePointerRef {
  version: string;
  contentHash: string;
}

/** The single pointer document (id `BUNDLE_POINTER_ID`). */
export interface BundlePointerDoc {
  id: string;
  /** The bundle every replica enforces. */
  active: BundlePointerRef;
  /** Policy admin who activated it (the system principal for a seed). */
  activatedBy: string;
  approvedAt: Date;
  activationReason: string;
  /** The bundle evaluated in shadow; absent when not shadowing. */
  shadow?: BundlePointerRef;
  /** Who last set or cleared the shadow, when and why. */
  shadowSetBy?: string;
  shadowSetAt?: Date;
  shadowReason?: string;
  /** The control event announcing the last change. */
  lastEventId: string;
  updatedAt: Date;
}

export type StoredBundleSummary = Omit<Versioned<StoredBundleDoc>, 'files'> & { fileCount: number };

export const POLICY_BUNDLES = defineCollection<StoredBundleDoc>({
  name: 'policy_bundles',
  indexes: [],
});
export const POLICY_BUNDLE_POINTER = defineCollection<BundlePointerDoc>({
  name: 'policy_bundle_pointer',
  indexes: [],
});
export const BUNDLE_POINTER_ID = 'pointer';
/** Larger bundles are refused (far below the 16 MiB document limit). */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;
/** Compare-and-set attempts on the pointer before giving up with `conflict`. */
export const MAX_POINTER_ATTEMPTS = 5;

const SYSTEM = tenantId(SYSTEM_TENANT);
const SOURCE = 'policy';

export type BundleRefusalCode = 'forbidden' | 'invalid' | 'conflict' | 'not_found' | 'integrity';

/** A refused request: nothing was written. */
export interface BundleRefusal {
  ok: false;
  code: BundleRefusalCode;
  errors: string[];
}

export type BundlePushResult =
  | { ok: true; status: 'stored' | 'unchanged'; bundle: BundleIdentity; warnings: string[] }
  | BundleRefusal;

export type BundlePointerResult =
  | {
      ok: true;
      status: 'changed' | 'unchanged';
      pointer: Versioned<BundlePointerDoc> | undefined;
      /** The control event written with the pointer (absent when unchanged). */
      event?: PolicyControlEvent;
    }
  | BundleRefusal;

export type BundleSeedResult =
  | { ok: true; status: 'seeded' | 'skipped'; pointer: Versioned<BundlePointerDoc> | undefined }
  | BundleRefusal;

/** No bundle is stored under this version. */
export class BundleNotFoundError extends Error {
  override readonly name = 'BundleNotFoundError';
  constructor(readonly version: string) {
    super(`no policy bundle is stored under version "${version}"`);
  }
}

/** The stored files no longer match what was stored (tampering or corruption): never served. */
export class BundleIntegrityError extends Error {
  override readonly name = 'BundleIntegrityError';
  constructor(
    readonly version: string,
    detail: string,
  ) {
    super(`policy bundle ${version} failed its integrity check: ${detail}`);
  }
}

export function isPolicyAdmin(principal: Principal | undefined): boolean {
  return (
    !!principal &&
    typeof principal.id === 'string' &&
    principal.id.trim() !== '' &&
    Array.isArray(principal.roles) &&
    principal.roles.includes(POLICY_ADMIN_ROLE)
  );
}

type PointerPlan =
  | {
      kind: 'write';
      doc: Omit<BundlePointerDoc, 'lastEventId' | 'updatedAt'>;
      change: NonNullable<PolicyControlEvent['change']>;
      actor: Principal;
      reason: string;
    }
  | { kind: 'unchanged' }
  | BundleRefusal;

export class BundleStore {
  constructor(
    private readonly bundles: DocumentStore<StoredBundleDoc>,
    private readonly pointers: DocumentStore<BundlePointerDoc>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Stores a validated bundle under its version. Policy admins only. Refuses an invalid bundle
   * with all the validator's messages, and other content under an already stored version.
   */
  async push(
    files: Readonly<Record<string, string>>,
    author: Principal,
    now: Date = this.clock(),
  ): Promise<BundlePushResult> {
    if (!isPolicyAdmin(author))
      return refuse('forbidden', `only a ${POLICY_ADMIN_ROLE} may push a policy bundle`);
    const shape = filesProblem(files);
    if (shape) return refuse('invalid', shape);
    const check = checkBundleFiles(files);
    if (!check.ok) return refuse('invalid', check.errors);
    return this.storeChecked(check.bundle, author.id, now, check.warnings);
  }

  /**
   * Points every replica at a stored bundle. The approver must be a policy admin other than the
   * bundle's pusher; the bundle is re-verified; the pointer and its `bundleActivated` event are
   * written atomically.
   */
  async activate(
    version: string,
    approver: Principal,
    reason: string,
    now: Date = this.clock(),
  ): Promise<BundlePointerResult> {
    if (!isPolicyAdmin(approver))
      return refuse('forbidden', `only a ${POLICY_ADMIN_ROLE} may activate a policy bundle`);
    if (typeof reason !== 'string' || !reason.trim())
      return refuse('invalid', 'a reason is required to activate a policy bundle');
    const verified = await this.verified(version);
    if (!verified.ok) return verified;
    if (verified.doc.author === approver.id)
      return refuse(
        'forbidden',
        `two-person rule: ${approver.id} pushed bundle ${version} and may not also activate it; ` +
          `another ${POLICY_ADMIN_ROLE} must approve`,
      );
    const ref = { version, contentHash: verified.doc.contentHash };
    return this.writePointer((current) => {
      if (current && sameRef(current.active, ref)) return { kind: 'unchanged' };
      return {
        kind: 'write',
        doc: {
          ...shadowFields(current),
          id: BUNDLE_POINTER_ID,
          active: ref,
          activatedBy: approver.id,
          approvedAt: now,
          activationReason: reason,
        },
        change: { $case: 'bundleActivated', value: ref },
        actor: approver,
        reason,
      };
    }, now);
  }

  /**
   * Runs a stored bundle in shadow beside the active one (`undefined` or '' stops shadowing).
   * Policy admins only; no two-person rule (shadow results never enforce). Needs an active bundle.
   */
  async setShadow(
    version: string | undefined,
    by: Principal,
    reason: string,
    now: Date = this.clock(),
  ): Promise<BundlePointerResult> {
    if (!isPolicyAdmin(by))
      return refuse('forbidden', `only a ${POLICY_ADMIN_ROLE} may set the shadow bundle`);
    if (typeof reason !== 'string' || !reason.trim())
      return refuse('invalid', 'a reason is required to set the shadow bundle');
    let ref: BundlePointerRef | undefined;
    if (version !== undefined && version !== '') {
      const verified = await this.verified(version);
      if (!verified.ok) return verified;
      ref = { version, contentHash: verified.doc.contentHash };
    }
    return this.writePointer((current) => {
      if (!current) {
        if (!ref) return { kind: 'unchanged' };
        return refuse('not_found', 'no bundle is active yet; activate one before shadowing');
      }
      if (ref ? current.shadow && sameRef(current.shadow, ref) : !current.shadow)
        return { kind: 'unchanged' };
      const { shadow: _shadow, ...rest } = pointerFields(current);
      return {
        kind: 'write',
        doc: {
          ...rest,
          ...(ref ? { shadow: ref } : {}),
          shadowSetBy: by.id,
          shadowSetAt: now,
          shadowReason: reason,
        },
        change: { $case: 'shadowSet', value: ref ?? { version: '', contentHash: '' } },
        actor: by,
        reason,
      };
    }, now);
  }

  /**
   * The stored bundle, parsed (not validated: offer it to a `BundleRegistry`). Throws
   * `BundleNotFoundError`, or `BundleIntegrityError` when the stored files no longer hash to the
   * stored content hash or name another version.
   */
  async load(version: string): Promise<PolicyBundle> {
    if (typeof version !== 'string' || version === '') throw new BundleNotFoundError(version);
    const doc = await this.bundles.get(SYSTEM, version);
    if (!doc) throw new BundleNotFoundError(version);
    return verifyDoc(doc);
  }

  /** The pointer, or undefined in an empty database. */
  async pointer(): Promise<Versioned<BundlePointerDoc> | undefined> {
    return (await this.pointers.get(SYSTEM, BUNDLE_POINTER_ID)) ?? undefined;
  }

  /** Stored bundles without their files, newest push first (at most `MAX_FIND_LIMIT`). */
  async list(): Promise<StoredBundleSummary[]> {
    const docs = await this.bundles.find(
      SYSTEM,
      {},
      { limit: MAX_FIND_LIMIT, sort: { createdAt: -1 } },
    );
    return docs.map(({ files, ...rest }) => ({ ...rest, fileCount: files.length }));
  }

  /**
   * Bootstrap of an empty database: stores the repository's bundle (pushed by
   * `systemPrincipalId`) and points to it, announced by a `bundleActivated` event. A no-op
   * ('skipped') when a pointer exists. An invalid bundle is refused like `push`.
   */
  async seedFromDirectory(
    files: Readonly<Record<string, string>>,
    systemPrincipalId: string,
    now: Date = this.clock(),
  ): Promise<BundleSeedResult> {
    const existing = await this.pointer();
    if (existing) return { ok: true, status: 'skipped', pointer: existing };
    if (typeof systemPrincipalId !== 'string' || !systemPrincipalId.trim())
      return refuse('invalid', 'a system principal id is required to seed the bundle store');
    const shape = filesProblem(files);
    if (shape) return refuse('invalid', shape);
    const check = checkBundleFiles(files);
    if (!check.ok) return refuse('invalid', check.errors);
    const stored = await this.storeChecked(check.bundle, systemPrincipalId, now, check.warnings);
    if (!stored.ok) return stored;
    const ref = { version: stored.bundle.version, contentHash: stored.bundle.contentHash };
    const reason = `bootstrap: seeded from the repository bundle ${stored.bundle.name}@${ref.version}`;
    const actor: Principal = { id: systemPrincipalId, roles: [] };
    const written = await this.writePointer(
      (current) =>
        current
          ? { kind: 'unchanged' }
          : {
              kind: 'write',
              doc: {
                id: BUNDLE_POINTER_ID,
                active: ref,
                activatedBy: systemPrincipalId,
                approvedAt: now,
                activationReason: reason,
              },
              change: { $case: 'bundleActivated', value: ref },
              actor,
              reason,
            },
      now,
    );
    if (!written.ok) return written;
    return {
      ok: true,
      status: written.status === 'changed' ? 'seeded' : 'skipped',
      pointer: written.pointer,
    };
  }

  private async storeChecked(
    bundle: PolicyBundle,
    authorId: string,
    now: Date,
    warnings: string[],
  ): Promise<BundlePushResult> {
    const identity = bundleIdentity(bundle);
    const m = bundle.manifest;
    const doc: StoredBundleDoc = {
      id: m.version,
      name: m.name,
      files: Object.keys(bundle.sources)
        .sort()
        .map((path) => ({ path, content: bundle.sources[path] })),
      contentHash: bundle.contentHash,
      author: authorId,
      manifestAuthor: m.author,
      manifestApprover: m.approver,
      manifestCreatedAt: m.createdAt,
      createdAt: now,
      description: m.description,
    };
    // Two rounds: a concurrent push of the same version is settled by the second read.
    for (let round = 0; round < 2; round++) {
      const existing = await this.bundles.get(SYSTEM, m.version);
      if (existing) {
        if (existing.contentHash === identity.contentHash)
          return { ok: true, status: 'unchanged', bundle: identity, warnings };
        return refuse(
          'conflict',
          `version ${m.version} is already stored with content ${existing.contentHash}; ` +
            `this bundle has ${identity.contentHash} (a version is immutable: bump the version)`,
        );
      }
      try {
        await this.bundles.insert(SYSTEM, doc);
        return { ok: true, status: 'stored', bundle: identity, warnings };
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
      }
    }
    return refuse('conflict', `version ${m.version} is being pushed concurrently; try again`);
  }

  /** The stored bundle, re-hashed and re-validated, or why it may not be pointed to. */
  private async verified(
    version: string,
  ): Promise<{ ok: true; doc: Versioned<StoredBundleDoc>; bundle: PolicyBundle } | BundleRefusal> {
    if (typeof version !== 'string' || version === '')
      return refuse('invalid', 'a bundle version is required');
    const doc = await this.bundles.get(SYSTEM, version);
    if (!doc) return refuse('not_found', `no policy bundle is stored under version "${version}"`);
    let bundle: PolicyBundle;
    try {
      bundle = verifyDoc(doc);
    } catch (err) {
      if (err instanceof BundleIntegrityError) return refuse('integrity', err.message);
      throw err;
    }
    const check = checkBundle(bundle);
    if (!check.ok) return refuse('invalid', check.errors);
    return { ok: true, doc, bundle };
  }

  /**
   * Reads the pointer, lets `plan` decide, and writes the new pointer with its control event in
   * one write: compare-and-set on the read version (insert when absent), retried on a
   * concurrent change.
   */
  private async writePointer(
    plan: (current: Versioned<BundlePointerDoc> | undefined) => PointerPlan,
    now: Date,
  ): Promise<BundlePointerResult> {
    for (let attempt = 0; attempt < MAX_POINTER_ATTEMPTS; attempt++) {
      const current = await this.pointer();
      const decided = plan(current);
      if ('ok' in decided) return decided;
      if (decided.kind === 'unchanged') return { ok: true, status: 'unchanged', pointer: current };
      // The store gives an inserted document version 1 and each write +1.
      const nextVersion = current ? current.version + 1 : 1;
      const ref = decided.change.value as BundlePointerRef;
      const eventId = createHash('sha256')
        .update(
          `policy-bundle-pointer/${nextVersion}/${decided.change.$case}/${ref.version}/${ref.contentHash}`,
        )
        .digest('hex')
        .slice(0, 32);
      const event: PolicyControlEvent = {
        eventId,
        version: String(nextVersion),
        actor: decided.actor.id,
        reason: decided.reason,
        occurredAt: now.toISOString(),
        actorRoles: [...decided.actor.roles],
        actorTenantId: decided.actor.tenantId ?? '',
        change: decided.change,
      };
      const outbox = [
        outboxMessage(Topics.policyControl, event, {
          tenantId: SYSTEM_TENANT,
          correlationId: eventId,
          source: SOURCE,
          subject: `policy-bundle/${ref.version}`,
          id: eventId,
          time: now,
        }),
      ];
      const doc: BundlePointerDoc = { ...decided.doc, lastEventId: eventId, updatedAt: now };
      try {
        const pointer = current
          ? await this.pointers.upsert(SYSTEM, doc, { expectVersion: current.version, outbox })
          : await this.pointers.insert(SYSTEM, doc, { outbox });
        return { ok: true, status: 'changed', pointer, event };
      } catch (err) {
        if (err instanceof ConcurrencyError || err instanceof DuplicateKeyError) continue;
        throw err;
      }
    }
    return refuse(
      'conflict',
      `the bundle pointer changed concurrently ${MAX_POINTER_ATTEMPTS} times; try again`,
    );
  }
}

function refuse(code: BundleRefusalCode, errors: string | string[]): BundleRefusal {
  return { ok: false, code, errors: Array.isArray(errors) ? errors : [errors] };
}

function sameRef(a: BundlePointerRef, b: BundlePointerRef): boolean {
  return a.version === b.version && a.contentHash === b.contentHash;
}

/** The pointer's caller fields (without the store-managed version). */
function pointerFields(current: Versioned<BundlePointerDoc>): BundlePointerDoc {
  const { version: _version, ...fields } = current;
  return fields;
}

function shadowFields(
  current: Versioned<BundlePointerDoc> | undefined,
): Pick<BundlePointerDoc, 'shadow' | 'shadowSetBy' | 'shadowSetAt' | 'shadowReason'> {
  if (!current) return {};
  const { shadow, shadowSetBy, shadowSetAt, shadowReason } = current;
  return { shadow, shadowSetBy, shadowSetAt, shadowReason };
}

/** Why `files` is not a bundle's file map at all (before parsing), or undefined. */
function filesProblem(files: unknown): string | undefined {
  if (typeof files !== 'object' || files === null || Array.isArray(files))
    return 'a bundle is an object of file path → text';
  let bytes = 0;
  for (const [path, text] of Object.entries(files)) {
    if (typeof text !== 'string') return `${path}: not text`;
    bytes += Buffer.byteLength(path, 'utf8') + Buffer.byteLength(text, 'utf8');
  }
  if (bytes > MAX_BUNDLE_BYTES)
    return `the bundle has ${bytes} bytes; at most ${MAX_BUNDLE_BYTES} are accepted`;
  return undefined;
}

/** Rebuilds the files, checks the content hash and the version, and parses. */
function verifyDoc(doc: Versioned<StoredBundleDoc>): PolicyBundle {
  const entries = Array.isArray(doc.files) ? doc.files : [];
  const seen = new Set<string>();
  for (const e of entries) {
    if (!e || typeof e.path !== 'string' || typeof e.content !== 'string')
      throw new BundleIntegrityError(doc.id, 'a stored file is not {path, content} text');
    if (seen.has(e.path)) throw new BundleIntegrityError(doc.id, `file ${e.path} is stored twice`);
    seen.add(e.path);
  }
  const files: Record<string, string> = Object.fromEntries(entries.map((e) => [e.path, e.content]));
  const actual = bundleContentHash(files);
  if (actual !== doc.contentHash)
    throw new BundleIntegrityError(
      doc.id,
      `the stored files hash to ${actual}, expected ${doc.contentHash}`,
    );
  const bundle = parseBundle(files);
  if (bundle.manifest.version !== doc.id)
    throw new BundleIntegrityError(
      doc.id,
      `stored under version ${doc.id} but its bundle.json says "${bundle.manifest.version}"`,
    );
  return bundle;
}
