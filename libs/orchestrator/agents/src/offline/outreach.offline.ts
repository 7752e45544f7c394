import type {
  OfflineReplyLike as OfflineReply,
  OfflineResponderLike as OfflineResponder,
} from '../model-port';
import { readAgentInput, type AgentInput } from '../agent-input';
import { call } from '../tools';
import { INJECTION_NOTE, isPseudonymToken, stripInjections } from './signals';

/**
 * Outreach: offline rules (not an LLM). Emails only when the consent check made in code allows
 * it now; otherwise `no_action` with the refusal code. The draft greets the contact by its
 * pseudonym token (restored only after approval) and only ever goes to the target contact.
 */

export const DEFAULT_MIN_DAYS_BETWEEN_EMAILS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

const STOP = /\b(unsubscribe|stop emailing|remove me|do not contact|don't contact|opt out)\b/i;
const COMPLAINT = /\b(not working|complain|complaint|unacceptable|disappointed|angry|refund)\b/i;

export function respondOutreach(input: AgentInput): OfflineReply {
  const noAction = (reason: string) => ({ toolCalls: [call('no_action', { reason })] });
  if (input.context.resolution?.kind === 'ambiguous') {
    const candidates = input.context.resolution.candidates.map((c) => c.id);
    return {
      toolCalls: [
        call('hand_off', {
          reason: `The person named could be ${candidates.length} different contacts; a human must choose.`,
          candidates,
        }),
      ],
    };
  }
  const consent = input.context.outreach;
  if (!consent) return noAction('CONSENT_UNKNOWN: no consent check was supplied.');
  if (!consent.allowed)
    return noAction(`${consent.reason}: the contact may not be emailed now (consent check).`);

  const latest = input.activity[0];
  const inbound = input.activity.find((a) => a.kind.startsWith('inbound'));
  const inboundText = inbound
    ? stripInjections(`${inbound.subject ?? ''}\n${inbound.body ?? ''}`)
    : undefined;
  if (inboundText && STOP.test(inboundText.text))
    return noAction('CONTACT_ASKED_TO_STOP: the contact asked not to be emailed.');
  if (inboundText && COMPLAINT.test(inboundText.text))
    return {
      toolCalls: [
        call('hand_off', {
          reason:
            'The contact’s latest message is a complaint or a problem report: a person should reply.',
          candidates: [],
        }),
      ],
    };
  if (!latest) return noAction('NOTHING_TO_FOLLOW_UP: no recent activity with this contact.');

  const minDays =
    input.context.tenantRules?.minDaysBetweenEmails ?? DEFAULT_MIN_DAYS_BETWEEN_EMAILS;
  const now = Date.parse(input.now);
  const lastOutbound = input.activity.find((a) => a.kind.startsWith('outbound') && a.occurredAt);
  if (lastOutbound?.occurredAt && now - Date.parse(lastOutbound.occurredAt) < minDays * DAY_MS)
    return noAction(`FREQUENCY_LIMIT: an email was sent less than ${minDays} days ago.`);

  const name = input.record['name'];
  const greeting = isPseudonymToken(name) ? `Hello ${name},` : 'Hello,';
  const topic = stripInjections(latest.subject ?? '')
    .text.replace(/^(re|fwd?):\s*/i, '')
    .trim();
  const injected = inboundText?.injected ?? false;
  return {
    text: injected ? INJECTION_NOTE : undefined,
    toolCalls: [
      call('send_email', {
        to_contact_id: input.context.recipientContactId ?? input.target.recordId,
        subject: topic ? `Following up: ${topic}` : 'Following up on our conversation',
        body: [
          greeting,
          '',
          topic
            ? `Thank you for your time on "${topic}". I wanted to follow up and check whether you have any questions or would like to schedule a next step.`
            : 'I wanted to follow up on our recent conversation and check whether you have any questions.',
          '',
          'Best regards',
        ].join('\n'),
      }),
    ],
  };
}

/** The outreach responder for `OfflineModel`. */
export const outreachOffline: OfflineResponder = (req) => respondOutreach(readAgentInput(req));
