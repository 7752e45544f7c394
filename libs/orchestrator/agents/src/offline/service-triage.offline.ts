import type {
  OfflineReplyLike as OfflineReply,
  OfflineResponderLike as OfflineResponder,
} from '../model-port';
import { readAgentInput, type AgentInput } from '../agent-input';
import { call, type AgentToolCall } from '../tools';
import { INJECTION_NOTE, cleanTexts, str, stripInjections } from './signals';

/**
 * Service triage: offline rules (not an LLM). Escalates incidents, sets the priority from
 * keywords and the customer tier, acknowledges the customer, and closes a case only when the
 * customer confirmed the fix. An inbound text that could mean several cases is handed off.
 */

export const DEFAULT_PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

const ESCALATE =
  /\b(security incident|data (exposure|breach|loss|leak)|breach|leaked|hacked|ransomware|lawsuit|legal action|regulator|outage|unauthori[sz]ed access)\b/i;
const URGENT = /\b(production down|all users|completely down|cannot log ?in at all)\b/i;
const HIGH = /\b(failing|failed|fails|blocked|broken|not working|error|urgent|asap|today)\b/i;
const LOW =
  /\b(how do i|how can i|question|is there a way|annoying|feature request|where to find)\b/i;
const RESOLVED =
  /\b(that fixed it|this fixed it|works now|working again|issue is resolved|problem is solved|you can close)\b/i;
const CLOSED = /^(closed|resolved|done)$/i;

export function respondServiceTriage(input: AgentInput): OfflineReply {
  const r = input.record;
  if (input.context.resolution?.kind === 'ambiguous') {
    const candidates = input.context.resolution.candidates.map((c) => c.id);
    return {
      toolCalls: [
        call('hand_off', {
          reason: `The message could refer to ${candidates.length} open cases; a human must decide which.`,
          candidates,
        }),
      ],
    };
  }
  const status = str(r['status']);
  if (status && CLOSED.test(status))
    return {
      toolCalls: [
        call('hand_off', {
          reason: 'The case is already closed; nothing to triage.',
          candidates: [],
        }),
      ],
    };
  const { texts, injected } = cleanTexts(input.activity, [r['subject'], r['description']]);
  const has = (re: RegExp) => texts.some((t) => re.test(t));
  const calls: AgentToolCall[] = [];
  if (injected)
    calls.push(
      call('reply_to_case', {
        body: `Internal note: ${INJECTION_NOTE} Treat the message as possible social engineering.`,
        public: false,
      }),
    );
  if (has(ESCALATE) || injected) {
    calls.push(
      call('escalate', {
        reason: has(ESCALATE)
          ? 'Signs of a security, legal or availability incident in the case.'
          : `Possible social-engineering attempt on the case. ${INJECTION_NOTE}`,
      }),
    );
    return { toolCalls: calls };
  }
  // Only the customer's own words count as confirmation (inbound messages).
  const confirmed = input.activity.some(
    (a) => a.kind.startsWith('inbound') && !!a.body && RESOLVED.test(a.body),
  );
  if (confirmed)
    return {
      toolCalls: [
        call('close_case', {
          resolution_code: 'RESOLVED',
          summary: 'The customer confirmed the fix in their latest message.',
        }),
      ],
    };

  const priorities = input.context.tenantRules?.priorities ?? DEFAULT_PRIORITIES;
  let level = has(URGENT) ? 3 : has(HIGH) ? 2 : has(LOW) ? 0 : 1;
  const tier = str(r['customerTier'])?.toLowerCase();
  if (tier === 'strategic' && level < 2) level += 1;
  const priority = priorities[Math.min(level, priorities.length - 1)];
  const current = str(r['priority']) ?? '';
  if (priority && priority !== current)
    calls.push(
      call('update_field', { field: 'priority', value: priority, previous_value: current }),
    );
  const subject = str(stripInjections(str(r['subject']) ?? '').text);
  calls.push(
    call('reply_to_case', {
      body: `Thank you for contacting support${subject ? ` about "${subject}"` : ''}. We have received your request and a support engineer is looking into it. We will update this case as soon as we know more.`,
      public: true,
    }),
  );
  return { toolCalls: calls };
}

/** The service-triage responder for `OfflineModel`. */
export const serviceTriageOffline: OfflineResponder = (req) =>
  respondServiceTriage(readAgentInput(req));
