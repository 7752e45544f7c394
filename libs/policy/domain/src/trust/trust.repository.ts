import {
  ConcurrencyError,
  DuplicateKeyError,
  MAX_FIND_LIMIT,
  defineCollection,
  type DocumentStore,
  type Filter,
  type TenantId,
  type Versioned,
} from '@mandate/storage';
import {
  DEFAULT_TRUST_CONFIG,
  TRUST_EVIDENCE_KINDS,
  applyTrustEvidence,
  assessTrust,
  newTrustState,
  validateTrustConfig,
  type TrustAssessment,
  type TrustBand,
  type TrustEvidence,
  type TrustEvidenceKind,
  type TrustModelConfig,
  type TrustState,
} from './trust-model';

/** How many trust points a document keeps (the most recent). */
export const TRUST_HISTORY_LIMIT = 100;

/**
 * The most trust documents `TrustRepository.list` returns (each with up to TRUST_HISTORY_LIMIT
 * points): a tenant's oversight view stays bounded however many agents × action types it has.
 * Past it, the rest (by agent, then action type) are left out; ask per agent (`agentId`).
 */
export const TRUST_LIST_LIMIT = 1000;

export interface TrustListOptions {
  /** Only this agent's documents (the `agent_action` index). */
  readonly agentId?: string;
  /** At most this many documents (1..TRUST_LIST_LIMIT; default TRUST_LIST_LIMIT). */
  readonly limit?: number;
}

/** Trust right after one applied outcome: what the console draws trust over time from. */
export interface TrustHistoryPoint {
  /** The instant of the assessment (the state's `updatedAt` after the outcome). */
  at: Date;
  score: number;
  band: TrustBand;
}

/** One document per tenant × agent × action type (the tenant is the store's scope). */
export interface TrustDoc {
  /** `${agentId}:${actionType}` (see `trustDocId`). */
  id: string;
  agentId: string;
  actionType: string;
  alpha: number;
  beta: number;
  evidence: Record<TrustEvidenceKind, number>;
  updatedAt: Date;
  processedEventIds: string[];
  /** Trust model version that last wrote the document. */
  modelVersion: string;
  /**
   * The assessment after each applied outcome, oldest first, at most TRUST_HISTORY_LIMIT.
   * Absent on documents written before it existed (read as empty).
   */
  history?: TrustHistoryPoint[];
}

export const TRUST_STATES = defineCollection<TrustDoc>({
  name: 'trust_states',
  indexes: [
    {
      name: 'agent_action',
      keys: { agentId: 1, actionType: 1 },
      why: "Lists one agent's trust across its action types (console view, agent offboarding).",
    },
  ],
});

/** Action types are snake_case and never contain ':', so the id splits unambiguously. */
export function trustDocId(agentId: string, actionType: string): string {
  if (!agentId) throw new RangeError('trust: agentId is required');
  if (!actionType || actionType.includes(':'))
    throw new RangeError(`trust: invalid action type "${actionType}"`);
  return `${agentId}:${actionType}`;
}

export interface TrustRecordResult {
  /** False when the event id had already been processed (a redelivery): nothing changed. */
  readonly applied: boolean;
  readonly assessment: TrustAssessment;
}

/** One agent × action type of a tenant, as `TrustRepository.list` returns it. */
export interface TrustListing {
  readonly agentId: string;
  readonly actionType: string;
  /** As of the `now` given to `list`. */
  readonly assessment: TrustAssessment;
  /** Oldest first (see `TrustDoc.history`). */
  readonly history: readonly TrustHistoryPoint[];
}

export interface TrustRepositoryOptions {
  /** Read-modify-write attempts before a ConcurrencyError is given up on. */
  readonly maxAttempts?: number;
}

/**
 * Trust state in the document store. Each update is one single-document compare-and-set
 * (`expectVersion`): concurrent consumers of the same agent retry on `ConcurrencyError`, and the
 * processed event ids live in the same document, so "already counted?" and "count it" are
 * decided in the same write.
 */
export class TrustRepository {
  private readonly maxAttempts: number;

  constructor(
    private readonly store: DocumentStore<TrustDoc>,
    private readonly config: TrustModelConfig = DEFAULT_TRUST_CONFIG,
    options: TrustRepositoryOptions = {},
  ) {
    validateTrustConfig(config);
    this.maxAttempts = options.maxAttempts ?? 20;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1)
      throw new RangeError('TrustRepository: maxAttempts must be a positive integer');
  }

  /** Score, band and novelty as of `now`; an agent with no history gets the prior (untrusted). */
  async get(
    tenant: TenantId,
    agentId: string,
    actionType: string,
    now: Date,
  ): Promise<TrustAssessment> {
    const doc = await this.store.get(tenant, trustDocId(agentId, actionType));
    const state = doc ? fromDoc(doc) : newTrustState(agentId, actionType, now, this.config);
    return assessTrust(state, now, this.config);
  }

  /** Records one outcome, at most once per `evidence.eventId`. */
  async record(
    tenant: TenantId,
    agentId: string,
    actionType: string,
    evidence: TrustEvidence,
  ): Promise<TrustRecordResult> {
    const id = trustDocId(agentId, actionType);
    let lastConflict: unknown;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const doc = await this.store.get(tenant, id);
      const before = doc
        ? fromDoc(doc)
        : newTrustState(agentId, actionType, evidence.at, this.config);
      const { state, applied } = applyTrustEvidence(before, evidence, this.config);
      const assessment = assessTrust(state, state.updatedAt, this.config);
      if (!applied) return { applied, assessment };
      // The point goes in with the state it describes: one compare-and-set, so a lost race
      // re-plans both and a redelivery (not applied above) adds no point.
      const history = [
        ...historyOf(doc),
        { at: new Date(assessment.asOf.getTime()), score: assessment.score, band: assessment.band },
      ].slice(-TRUST_HISTORY_LIMIT);
      try {
        if (!doc) await this.store.insert(tenant, { ...toDoc(id, state, this.config), history });
        else
          await this.store.update(
            tenant,
            id,
            { set: { ...fieldsOf(state, this.config), history } },
            { expectVersion: doc.version },
          );
        return { applied, assessment };
      } catch (e) {
        // Another writer got there first: re-read (it may even have recorded this very event).
        if (e instanceof ConcurrencyError || e instanceof DuplicateKeyError) {
          lastConflict = e;
          continue;
        }
        throw e;
      }
    }
    throw lastConflict;
  }

  /**
   * The agent × action types of the tenant that have a trust document (only `agentId`'s when
   * given), assessed as of `now`, with their history; by agent, then action type. At most
   * `limit` documents (default and ceiling TRUST_LIST_LIMIT), read in pages by id.
   */
  async list(tenant: TenantId, now: Date, options: TrustListOptions = {}): Promise<TrustListing[]> {
    const limit = options.limit ?? TRUST_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > TRUST_LIST_LIMIT)
      throw new RangeError(`trust: list limit must be an integer in 1..${TRUST_LIST_LIMIT}`);
    const agentId = options.agentId;
    if (agentId !== undefined && agentId === '')
      throw new RangeError('trust: agentId must not be empty');
    const out: TrustListing[] = [];
    let after: string | undefined;
    while (out.length < limit) {
      const filter: Filter<TrustDoc> = {
        ...(agentId !== undefined ? { agentId } : {}),
        ...(after ? { id: { $gt: after } } : {}),
      };
      const want = Math.min(MAX_FIND_LIMIT, limit - out.length);
      const page = await this.store.find(tenant, filter, { limit: want, sort: { id: 1 } });
      for (const doc of page)
        out.push({
          agentId: doc.agentId,
          actionType: doc.actionType,
          assessment: assessTrust(fromDoc(doc), now, this.config),
          history: historyOf(doc),
        });
      if (page.length < want) break;
      after = page[page.length - 1].id;
    }
    return out.sort((a, b) => compare(a.agentId, b.agentId) || compare(a.actionType, b.actionType));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The document's history, oldest first; empty for a document written before history existed. */
function historyOf(doc: Versioned<TrustDoc> | null): TrustHistoryPoint[] {
  const history = doc?.history;
  if (!Array.isArray(history)) return [];
  return history
    .filter((p) => p && p.at instanceof Date && typeof p.score === 'number')
    .map((p) => ({ at: new Date(p.at.getTime()), score: p.score, band: p.band }));
}

function fromDoc(doc: Versioned<TrustDoc>): TrustState {
  return {
    agentId: doc.agentId,
    actionType: doc.actionType,
    alpha: doc.alpha,
    beta: doc.beta,
    // A kind added after the document was written starts at 0.
    evidence: Object.fromEntries(
      TRUST_EVIDENCE_KINDS.map((k) => [k, doc.evidence?.[k] ?? 0]),
    ) as Record<TrustEvidenceKind, number>,
    updatedAt: doc.updatedAt,
    processedEventIds: doc.processedEventIds,
  };
}

function fieldsOf(state: TrustState, config: TrustModelConfig): Omit<TrustDoc, 'id'> {
  return {
    agentId: state.agentId,
    actionType: state.actionType,
    alpha: state.alpha,
    beta: state.beta,
    evidence: { ...state.evidence },
    updatedAt: state.updatedAt,
    processedEventIds: [...state.processedEventIds],
    modelVersion: config.version,
  };
}

function toDoc(id: string, state: TrustState, config: TrustModelConfig): TrustDoc {
  return { id, ...fieldsOf(state, config) };
}
