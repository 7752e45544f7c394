export { BundleConfigError } from './bundle-config.error';
export {
  RISK_ACTION_VARIANTS,
  RISK_BANDS,
  RISK_FACTORS,
  normalizeLabel,
  parseRiskConfig,
} from './risk-model.config';
export type { RiskBand, RiskFactor, RiskModelConfig } from './risk-model.config';
export { fieldsTouched, riskActionKeys, scaleMonetary } from './risk-factors';
export { riskBandOf, scoreRisk } from './risk-scorer';
export type { RiskAssessment } from './risk-scorer';
