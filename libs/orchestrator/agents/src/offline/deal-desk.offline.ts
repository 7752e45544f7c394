import type {
  OfflineReplyLike as OfflineReply,
  OfflineResponderLike as OfflineResponder,
} from '../model-port';
import { readAgentInput, type AgentInput } from '../agent-input';
import { call } from '../tools';
import { INJECTION_NOTE, cleanTexts, num, str } from './signals';

/**
 * Deal desk: offline rules (not an LLM). Finds a discount request in the opportunity's notes and
 * activity (after cutting out instructions aimed at the agent), proposes it when it is within
 * the ceiling and justified by facts in the data, and hands off otherwise.
 */

export const DEFAULT_DISCOUNT_CEILING_PERCENT = 20;

const REQUEST = /(\d{1,2}(?:\.\d+)?)\s?%\s*(?:[\w-]+\s+){0,2}?(?:off|discount)\b/i;
const JUSTIFICATIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(multi-year|two-year|three-year|\d-year|\d+ years?)\b/i, 'multi-year term'],
  [/\bcommitment\b/i, 'contract commitment'],
  [/\b(competing offer|competitor|incumbent)\b/i, 'competing offer'],
  [/\b(\d+ seats|volume)\b/i, 'volume'],
  [/\b(public reference|reference customer|case study)\b/i, 'reference / case study'],
];

export function requestedDiscount(texts: readonly string[]): number | undefined {
  for (const text of texts) {
    const match = REQUEST.exec(text);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** The standard discount tiers the deal desk steps down through after a denial, highest first. */
export const DISCOUNT_TIERS = [20, 15, 10, 5] as const;

/**
 * After a discount step was denied or rejected: the next standard tier below every discount
 * already turned down, or undefined when there is none (then a human takes over).
 */
export function nextLowerDiscount(turnedDown: readonly number[]): number | undefined {
  const floor = Math.min(...turnedDown);
  return DISCOUNT_TIERS.find((tier) => tier < floor);
}

function turnedDownDiscounts(input: AgentInput): number[] {
  const feedback = input.context.feedback;
  if (!feedback) return [];
  return [...(feedback.earlier ?? []), feedback]
    .filter((f) => f.tool === 'apply_discount')
    .map((f) => Number(f.args['discount_percent']))
    .filter((n) => Number.isFinite(n));
}

export function respondDealDesk(input: AgentInput): OfflineReply {
  const r = input.record;
  const handOff = (reason: string, candidates: string[] = []) => ({
    toolCalls: [call('hand_off', { reason, candidates })],
  });
  if (input.context.resolution?.kind === 'ambiguous') {
    const candidates = input.context.resolution.candidates.map((c) => c.id);
    return handOff(
      'The data names a record that could be several; a human must decide.',
      candidates,
    );
  }
  const { texts, injected } = cleanTexts(input.activity, [r['notes']]);
  const note = injected ? ` ${INJECTION_NOTE}` : '';
  const ceiling = input.context.tenantRules?.maxDiscountPercent ?? DEFAULT_DISCOUNT_CEILING_PERCENT;
  const requested = requestedDiscount(texts);
  if (requested === undefined)
    return handOff(`No discount request or stage criteria found in the data.${note}`);
  if (requested <= 0 || requested >= 100)
    return handOff(`The requested discount (${requested}%) is not a valid percentage.${note}`);
  if (requested > ceiling)
    return handOff(
      `The requested discount of ${requested}% exceeds the ${ceiling}% ceiling: deal desk and approval needed.${note}`,
    );
  const facts = JUSTIFICATIONS.filter(([re]) => texts.some((t) => re.test(t))).map(([, f]) => f);
  if (facts.length === 0)
    return handOff(
      `A ${requested}% discount is requested without a justification in the data.${note}`,
    );
  const amountMinor = num(r['amountMinor']);
  const currency = str(r['currencyCode'])?.toUpperCase();
  if (amountMinor === undefined || !Number.isInteger(amountMinor) || !currency)
    return handOff(`The record lacks the list amount or currency for the discount.${note}`);
  const turnedDown = turnedDownDiscounts(input);
  if (turnedDown.length > 0) {
    const feedback = input.context.feedback!;
    const why = feedback.reasons.join(', ') || feedback.outcome;
    const lower = nextLowerDiscount(turnedDown);
    if (lower === undefined)
      return handOff(
        `Discounts of ${turnedDown.join('%, ')}% were turned down (${why}); no standard tier is left below them. The customer asked for ${requested}% (${facts.join(', ')}).${note}`,
      );
    return {
      toolCalls: [
        call('apply_discount', {
          discount_percent: lower,
          reason: `Counter-offer of ${lower}% after ${turnedDown.join('%, ')}% was ${feedback.outcome} (${why}); the customer asked for ${requested}%, justified by: ${facts.join(', ')}.${note}`,
          list_amount: { currency_code: currency, amount_minor: amountMinor },
        }),
      ],
    };
  }
  return {
    toolCalls: [
      call('apply_discount', {
        discount_percent: requested,
        reason: `Requested ${requested}% (within the ${ceiling}% ceiling), justified by: ${facts.join(', ')}.${note}`,
        list_amount: { currency_code: currency, amount_minor: amountMinor },
      }),
    ],
  };
}

/** The deal-desk responder for `OfflineModel`. */
export const dealDeskOffline: OfflineResponder = (req) => respondDealDesk(readAgentInput(req));
