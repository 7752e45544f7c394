// Public API of the Cedar layer (re-exported by the lib's index).
export * from './reason-codes';
export * from './policy-bundle.model';
export * from './policy-test-case';
export { bundleContentHash } from './bundle-content-hash';
export { parseAgentProfiles } from './agent-profiles';
export { parseBundle } from './bundle.parser';
export { validateBundle, type BundleValidation } from './bundle.validator';
export { loadBundleDirectory, readBundleFiles } from './bundle-directory.loader';
export {
  CedarEvaluator,
  deniedOutcome,
  type CedarOutcome,
  type MatchedCedarPolicy,
} from './cedar.evaluator';
export { mapToCedarRequest, RESOURCE_ENTITY_TYPES } from './cedar-request.mapper';
export { localClock, type LocalClock } from './local-clock';
export { BundleRegistry, type ActiveBundle, type BundleOfferResult } from './bundle.registry';
export {
  runPolicyTestCases,
  toDecisionInput,
  type PolicyTestReport,
  type PolicyTestResult,
} from './policy-test.runner';
