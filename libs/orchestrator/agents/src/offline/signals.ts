import { isToken, type FieldValue } from '@mandate/data-governance';
import type { ActivityItem } from '../agent-input';

/**
 * Shared helpers of the offline rules (not an LLM). Untrusted text is only ever matched against
 * fixed patterns to extract signals; a paragraph that addresses the agent ("ignore previous
 * instructions", "note to the AI agent", "Assistant: …") is cut out before any signal is read,
 * so nothing it asks for can become a tool call.
 */

const INJECTION =
  /ignore (all |any )?(previous|prior|above|earlier) (instructions|rules|policies)|\b(note|notice|instruction|instructions|message|request)\s+(to|for)\s+the\s+(ai|assistant|agent|model|bot)\b|\bsystem (notice|message|prompt|override)\b|\bai (agent|assistant)\b|(^|\n)\s*(assistant|ai|system)\s*:|\byou are required to\b|\bswitch to tenant\b|\badministrator rights\b|\bdo not (send|mention|tell|forward) (it|this)\b|\bwithout (human )?approval\b|\bpre-approved\b/i;

export interface CleanText {
  /** The text without the paragraphs (from the first injected sentence on) that instruct the agent. */
  readonly text: string;
  /** True when something was cut out. */
  readonly injected: boolean;
}

/** Removes, per paragraph, everything from the first instruction aimed at the agent onwards. */
export function stripInjections(text: string): CleanText {
  let injected = false;
  const paragraphs = text.split(/\n/).map((paragraph) => {
    const sentences = paragraph.split(/(?<=[.!?])\s+/);
    const first = sentences.findIndex((sentence) => INJECTION.test(sentence));
    if (first < 0) return paragraph;
    injected = true;
    return sentences.slice(0, first).join(' ');
  });
  return { text: paragraphs.filter((p) => p.trim().length > 0).join('\n'), injected };
}

/** The clean texts of the activity (subject and body) plus extra fields (notes, descriptions). */
export function cleanTexts(
  activity: readonly ActivityItem[],
  extra: ReadonlyArray<FieldValue | undefined> = [],
): { readonly texts: string[]; readonly injected: boolean } {
  const raw: string[] = [];
  for (const value of extra) if (typeof value === 'string' && value.trim()) raw.push(value);
  for (const item of activity) {
    if (item.subject) raw.push(item.subject);
    if (item.body) raw.push(item.body);
  }
  const cleaned = raw.map(stripInjections);
  return {
    texts: cleaned.map((c) => c.text).filter((t) => t.length > 0),
    injected: cleaned.some((c) => c.injected),
  };
}

export const INJECTION_NOTE =
  'The data contains instructions addressed to the AI agent; they were not followed.';

export function str(value: FieldValue | undefined): string | undefined {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

export function num(value: FieldValue | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** A pseudonym token such as ⟦PERSON_1⟧ (what personal values look like to an agent). */
export function isPseudonymToken(value: FieldValue | undefined): value is string {
  return typeof value === 'string' && isToken(value);
}

/** Small deterministic hash (FNV-1a) for stable choices such as round-robin routing. */
export function stableIndex(seed: string, modulo: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % modulo;
}
