import type {
  OfflineReplyLike as OfflineReply,
  OfflineResponderLike as OfflineResponder,
} from '../model-port';
import { readAgentInput, type AgentInput } from '../agent-input';
import { call, type AgentToolCall } from '../tools';
import { INJECTION_NOTE, cleanTexts, num, stableIndex, str } from './signals';

/**
 * Lead qualification: offline rules (not an LLM). Scores firmographics, source, title and the
 * buying intent in the notes; never reads a name or an address (only the derived email domain).
 */

const SENIOR_TITLE =
  /\b(vp|vice president|director|head|chief|cto|ceo|cfo|coo|cdo|founder|owner)\b/i;
const NON_BUYER_TITLE = /\b(student|intern|job seeker|researcher|professor)\b/i;
const BUYING_INTENT =
  /\b(budget|pricing|price|quote|demo|timeline|purchase|rollout|contract|seats|decision|security review|sso)\b/i;
const WARM_SOURCES = new Set(['referral', 'demo-request', 'webinar', 'partner', 'event']);
const TARGET_INDUSTRIES = new Set(['software', 'manufacturing', 'logistics', 'retail', 'finance']);
const REGULATED_INDUSTRIES = new Set(['finance', 'health', 'insurance']);
const FREE_MAIL = new Set(['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'proton.me']);
const FREE_MAIL_LOOKALIKE = /^(freemail|webmail)\./;

export const LEAD_QUALIFY_THRESHOLD = 50;

/** Country (ISO 3166 alpha-2) → sales territory, for routing. */
const TERRITORY: Readonly<Record<string, string>> = {
  US: 'NA',
  CA: 'NA',
  MX: 'NA',
  GB: 'EMEA',
  IE: 'EMEA',
  DE: 'EMEA',
  FR: 'EMEA',
  NL: 'EMEA',
  BE: 'EMEA',
  ES: 'EMEA',
  IT: 'EMEA',
  SE: 'EMEA',
  DK: 'EMEA',
  NO: 'EMEA',
  FI: 'EMEA',
  CH: 'EMEA',
  AT: 'EMEA',
  PL: 'EMEA',
  AE: 'EMEA',
  ZA: 'EMEA',
  JP: 'APAC',
  IN: 'APAC',
  AU: 'APAC',
  NZ: 'APAC',
  SG: 'APAC',
  KR: 'APAC',
  CN: 'APAC',
};

export interface LeadScore {
  readonly score: number;
  readonly signals: readonly string[];
  readonly freeMail: boolean;
  readonly nonBuyer: boolean;
  readonly injected: boolean;
}

export function scoreLead(input: AgentInput): LeadScore {
  const r = input.record;
  const signals: string[] = [];
  let score = 10;
  const add = (points: number, signal: string) => {
    score += points;
    signals.push(`${points > 0 ? '+' : ''}${points} ${signal}`);
  };
  const employees = num(r['employees']) ?? 0;
  if (employees >= 1000) add(25, 'company size ≥ 1000');
  else if (employees >= 200) add(20, 'company size ≥ 200');
  else if (employees >= 50) add(10, 'company size ≥ 50');
  const title = str(r['title']);
  if (title && SENIOR_TITLE.test(title)) add(20, 'senior role');
  const nonBuyer = !!title && NON_BUYER_TITLE.test(title);
  if (nonBuyer) add(-20, 'role is not a buyer');
  const source = str(r['source'])?.toLowerCase();
  if (source && WARM_SOURCES.has(source)) add(20, `warm source (${source})`);
  const industry = str(r['industry'])?.toLowerCase();
  if (industry && (TARGET_INDUSTRIES.has(industry) || REGULATED_INDUSTRIES.has(industry)))
    add(10, `target industry (${industry})`);
  const { texts, injected } = cleanTexts(input.activity, [r['notes']]);
  if (texts.some((t) => BUYING_INTENT.test(t))) add(20, 'stated need or buying intent');
  const domain = str(r['emailDomain'])?.toLowerCase();
  const freeMail = !!domain && (FREE_MAIL.has(domain) || FREE_MAIL_LOOKALIKE.test(domain));
  if (freeMail) add(-25, 'free-mail address');
  if (industry && REGULATED_INDUSTRIES.has(industry))
    signals.push(`regulated industry (${industry}): data handling needs review`);
  return { score: Math.max(0, Math.min(100, score)), signals, freeMail, nonBuyer, injected };
}

export function respondLeadQualification(input: AgentInput): OfflineReply {
  if (input.context.resolution?.kind === 'ambiguous') {
    const candidates = input.context.resolution.candidates.map((c) => c.id);
    return {
      toolCalls: [
        call('hand_off', {
          reason: `The lead could match ${candidates.length} existing records; a human must decide which.`,
          candidates,
        }),
      ],
    };
  }
  const assessment = scoreLead(input);
  const summary = assessment.signals.join('; ') || 'no qualifying signal';
  if (assessment.injected)
    return {
      toolCalls: [
        call('hand_off', {
          reason: `${INJECTION_NOTE} A human should review this lead (score ${assessment.score} without the injected text: ${summary}).`,
          candidates: [],
        }),
      ],
    };
  if (assessment.score < LEAD_QUALIFY_THRESHOLD) {
    const reasonCode = assessment.freeMail || assessment.nonBuyer ? 'NOT_A_BUYER' : 'LOW_FIT';
    return {
      toolCalls: [
        call('disqualify_lead', {
          reason_code: reasonCode,
          reason: `Score ${assessment.score} below ${LEAD_QUALIFY_THRESHOLD}: ${summary}.`,
        }),
      ],
    };
  }
  const calls: AgentToolCall[] = [
    call('qualify_lead', { score: assessment.score, reason: `${summary}.` }),
  ];
  const owner = ownerFor(input);
  if (owner) calls.push(call('assign_owner', owner));
  // The first-touch email, only when the consent check made in code allows it now. No name: the
  // agent never reads it (a greeting without one reads fine and needs no merge field).
  if (input.context.outreach?.allowed && input.context.recipientContactId)
    calls.push(
      call('send_email', {
        to_contact_id: input.context.recipientContactId,
        subject: firstTouchSubject(input),
        body: firstTouchBody(input),
      }),
    );
  return { toolCalls: calls };
}

function ownerFor(input: AgentInput): { owner_id: string; reason: string } | undefined {
  const owners = input.context.tenantRules?.owners ?? [];
  const country = str(input.record['country'])?.toUpperCase();
  const territory = country ? TERRITORY[country] : undefined;
  if (!territory) return undefined;
  const inTerritory = owners
    .filter((o) => o.territory === territory)
    .map((o) => o.ownerId)
    .sort();
  if (inTerritory.length === 0) return undefined;
  const ownerId = inTerritory[stableIndex(input.target.recordId, inTerritory.length)];
  return { owner_id: ownerId, reason: `Territory ${territory} (country ${country}), round robin.` };
}

/** The lead-qualification responder for `OfflineModel`. */
export const leadQualificationOffline: OfflineResponder = (req) =>
  respondLeadQualification(readAgentInput(req));

function firstTouchSubject(input: AgentInput): string {
  return str(input.record['source']) === 'demo-request'
    ? 'Next steps after your demo request'
    : 'Next steps after your enquiry';
}

function firstTouchBody(input: AgentInput): string {
  const source = str(input.record['source']);
  return [
    'Hello,',
    '',
    source === 'demo-request'
      ? 'Thank you for requesting a demo. I would be glad to walk you through it with your team.'
      : 'Thank you for your interest. I would be glad to learn more about what you need.',
    'Would a 30-minute call this week or next suit you? Reply with a time that works and I will send an invitation.',
    '',
    'Best regards',
  ].join('\n');
}
