/**
 * The built-in offline model: a deterministic rule scorer, NOT an LLM. It lets the embedded
 * process and the tests make sensible proposals on the demo data without any model provider.
 * It reads only non-personal firmographic and activity signals.
 */
export const OFFLINE_MODEL = {
  provider: 'mandate-offline',
  model: 'lead-rules-v1',
  label: 'offline rules (not an LLM)',
} as const;

export interface LeadSignals {
  employees?: number;
  title?: string;
  source?: string;
  industry?: string;
  notes?: string;
  emailDomain?: string;
}

export interface LeadAssessment {
  score: number;
  qualified: boolean;
  confidence: number;
  reasons: string[];
}

const SENIOR_TITLE = /\b(vp|vice president|director|head|chief|cto|ceo|cfo|coo|founder)\b/i;
const BUYING_INTENT = /\b(budget|pricing|price|quote|demo|timeline|purchase|rollout|contract)\b/i;
const WARM_SOURCES = new Set(['referral', 'demo-request', 'webinar', 'partner']);
const TARGET_INDUSTRIES = new Set([
  'software',
  'manufacturing',
  'logistics',
  'retail',
  'finance',
  'healthcare',
]);
const FREE_MAIL = new Set(['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'proton.me']);

export const QUALIFY_THRESHOLD = 0.5;

export function assessLead(s: LeadSignals): LeadAssessment {
  const reasons: string[] = [];
  let score = 0.1;
  const add = (points: number, reason: string) => {
    score += points;
    reasons.push(`${points > 0 ? '+' : ''}${points.toFixed(2)} ${reason}`);
  };
  if ((s.employees ?? 0) >= 200) add(0.25, 'company size ≥ 200');
  else if ((s.employees ?? 0) >= 50) add(0.1, 'company size ≥ 50');
  if (s.title && SENIOR_TITLE.test(s.title)) add(0.2, 'senior title');
  if (s.source && WARM_SOURCES.has(s.source.toLowerCase())) add(0.2, `warm source (${s.source})`);
  if (s.industry && TARGET_INDUSTRIES.has(s.industry.toLowerCase())) add(0.1, 'target industry');
  if (s.notes && BUYING_INTENT.test(s.notes)) add(0.2, 'buying intent in notes');
  if (s.emailDomain && FREE_MAIL.has(s.emailDomain.toLowerCase())) add(-0.2, 'free-mail address');
  score = Math.round(Math.min(1, Math.max(0, score)) * 100) / 100;
  const qualified = score >= QUALIFY_THRESHOLD;
  // Confidence grows with the distance from the threshold: borderline leads get low confidence.
  const confidence = Math.round(Math.min(1, 0.5 + Math.abs(score - QUALIFY_THRESHOLD)) * 100) / 100;
  return { score, qualified, confidence, reasons };
}
