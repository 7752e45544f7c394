export {
  SalesforceAdapter,
  ACTION_OBJECT,
  ACTION_FIELDS,
  type SalesforceUndo,
} from './salesforce.adapter';
export {
  parseSalesforceConfig,
  salesforceConfigProblems,
  SalesforceConfigError,
  SALESFORCE_DEFAULTS,
  SALESFORCE_ENV_KEYS,
  type SalesforceConfig,
} from './config';
export {
  DEFAULT_SALESFORCE_MAPPING,
  CANONICAL_FIELDS,
  SALESFORCE_ACTIONS,
  SALESFORCE_REVERSIBLE_ACTIONS,
  SALESFORCE_RATE_LIMIT,
  SalesforceMapping,
  salesforceCapabilities,
  type CanonicalFieldSpec,
  type ValueKind,
} from './mapping';
export { TASK_KEY_FIELD } from './actions';
export {
  classifySalesforceError,
  classifyTokenFailure,
  parseSalesforceErrors,
  type SalesforceErrorEntry,
} from './salesforce-errors';
export { externalKey, isSalesforceId, toId18 } from './ids';
