export { betaQuantile, logGamma, regularizedIncompleteBeta } from './beta-distribution';
export {
  DEFAULT_TRUST_CONFIG,
  InvalidTrustEvidenceError,
  TRUST_BANDS,
  TRUST_EVIDENCE_KINDS,
  applyTrustEvidence,
  assessTrust,
  decayTrust,
  newTrustState,
  noveltyOf,
  trustBandOf,
  trustEvidenceKindOfExecution,
  trustEvidenceKindOfReview,
  trustScoreOf,
  validateTrustConfig,
} from './trust-model';
export type {
  EvidenceWeight,
  TrustAssessment,
  TrustBand,
  TrustEvidence,
  TrustEvidenceKind,
  TrustModelConfig,
  TrustState,
} from './trust-model';
export {
  TRUST_HISTORY_LIMIT,
  TRUST_LIST_LIMIT,
  TRUST_STATES,
  TrustRepository,
  trustDocId,
} from './trust.repository';
export type {
  TrustDoc,
  TrustHistoryPoint,
  TrustListing,
  TrustListOptions,
  TrustRecordResult,
  TrustRepositoryOptions,
} from './trust.repository';
export {
  InvalidTrustEvidenceEventError,
  TrustEvidenceRecorder,
  TrustEvidenceRouter,
} from './trust-evidence.flow';
export type { NoEvidence, RecordedEvidence } from './trust-evidence.flow';
export { cleanTrackRecord } from './trust-history';
