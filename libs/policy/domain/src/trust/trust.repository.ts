import {
  ConcurrencyError,
  DuplicateKeyError,
  defineCollection,
  type DocumentStore,
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
  type TrustEvidence,
  type TrustEvidenceKind,
  type TrustModelConfig,
  type TrustState,
} from './trust-model';

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
      try {
        if (!doc) await this.store.insert(tenant, toDoc(id, state, this.config));
        else
          await this.store.update(
            tenant,
            id,
            { set: fieldsOf(state, this.config) },
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
