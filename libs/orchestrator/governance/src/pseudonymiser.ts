import { randomInt } from 'node:crypto';
import { PSEUDONYM_TOKEN_PATTERN } from '@mandate/contracts';

/**
 * What a pseudonym stands for. The kind is part of the token (`⟦EMAIL_1⟧`) so the model knows
 * what it is looking at without seeing it. `iban` and `card` are what `scrubText` finds in free
 * text; callers normally use the first five.
 */
export type PseudonymKind = 'person' | 'email' | 'phone' | 'org' | 'iban' | 'card' | 'other';

/** A personal value the caller already knows (from the record) and wants replaced in free text. */
export interface KnownValue {
  readonly value: string;
  readonly kind: PseudonymKind;
}

/** What `restoreForExecution` gives back. */
export interface RestoreResult {
  /** The text with every token of this vault replaced by its original value. */
  readonly text: string;
  /**
   * Token-shaped strings that are not in this vault (the model made them up, or copied them from
   * another run): left untouched in `text` and reported so the caller can refuse or flag.
   */
  readonly unknownTokens: readonly string[];
}

const KIND_LABEL: Readonly<Record<PseudonymKind, string>> = {
  person: 'PERSON',
  email: 'EMAIL',
  phone: 'PHONE',
  org: 'ORG',
  iban: 'IBAN',
  card: 'CARD',
  other: 'OTHER',
};

/** Opening and closing brackets of a token. They never occur in scrubbed text except in tokens. */
export const TOKEN_OPEN = '⟦';
export const TOKEN_CLOSE = '⟧';

/**
 * Any token-shaped string, whoever made it: the one format of `@mandate/contracts`, which the
 * connector also checks for (a token left in an outbound text is refused there).
 */
const TOKEN_PATTERN = new RegExp(PSEUDONYM_TOKEN_PATTERN.source, 'g');

/** True when `text` is exactly one token (`⟦PERSON_1⟧`), whichever vault it came from. */
export function isToken(text: string): boolean {
  return new RegExp(`^${TOKEN_PATTERN.source}$`).test(text);
}

// ------------------------------------------------------------------------------ detection

const EMAIL_PATTERN =
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** Two letters, two check digits, then 11–30 letters/digits, optionally grouped by spaces. */
const IBAN_PATTERN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g;
/** A run of digits with optional separators, possibly starting with "+" or "(": phones, cards. */
const NUMBER_PATTERN = /(?<![\w+])(?:\+|\()?\d(?:[\d \-.()]*\d)?(?!\w)/g;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const GROUPED_AMOUNT = /^\d{1,3}(?:[.,' ]\d{3})+$/;
const YEAR_RANGE = /^\d{4}\s*-\s*\d{4}$/;
const DOTTED_DATE = /^\d{1,2}[./]\d{1,2}[./]\d{2,4}$/;

function digitsOf(text: string): string {
  return text.replace(/\D/g, '');
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The kind of a number found in free text, or undefined when it is not personal-looking. */
function numberKind(match: string): PseudonymKind | undefined {
  const trimmed = match.trim();
  if ([ISO_DATE, GROUPED_AMOUNT, YEAR_RANGE, DOTTED_DATE].some((p) => p.test(trimmed)))
    return undefined;
  const digits = digitsOf(trimmed);
  if (digits.length >= 13 && digits.length <= 19 && !trimmed.startsWith('+') && luhnValid(digits))
    return 'card';
  if (digits.length >= 7 && digits.length <= 15) {
    // A bare run of digits without "+" or separators is more often an amount or an id.
    const separated = /[\s\-.()]/.test(trimmed) || trimmed.startsWith('+');
    return separated || digits.length >= 10 ? 'phone' : undefined;
  }
  // Long digit runs (account numbers, card numbers failing Luhn): opaque, but still personal-looking.
  if (digits.length > 15) return 'other';
  return undefined;
}

// ------------------------------------------------------------------------------ normalisation

function normalisedKey(value: string, kind: PseudonymKind): string {
  const v = value.normalize('NFKC').trim();
  switch (kind) {
    case 'email':
      return v.toLowerCase();
    case 'phone':
    case 'card':
      return (v.startsWith('+') ? '+' : '') + digitsOf(v);
    case 'iban':
      return v.replace(/\s+/g, '').toUpperCase();
    default:
      return v.replace(/\s+/g, ' ').toLowerCase();
  }
}

/** `text.replace(pattern, replacer)` on the parts of `text` that are not tokens. */
function replaceOutsideTokens(
  text: string,
  pattern: RegExp,
  replacer: (match: string) => string,
): string {
  const tokens = new RegExp(TOKEN_PATTERN.source, 'g');
  let out = '';
  let last = 0;
  for (const m of text.matchAll(tokens)) {
    out += text.slice(last, m.index).replace(pattern, replacer) + m[0];
    last = m.index + m[0].length;
  }
  return out + text.slice(last).replace(pattern, replacer);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A pattern for a known value in free text: case-insensitive, whole words, flexible spaces. */
function knownValuePattern(
  value: string,
  kind: PseudonymKind,
  caseSensitive = false,
): RegExp | undefined {
  const v = value.normalize('NFKC').trim();
  if (!v) return undefined;
  if (kind === 'phone' || kind === 'card') {
    const digits = digitsOf(v);
    if (digits.length < 5) return undefined;
    // The same digits, whatever separators the text uses ("+49 555 0108", "+495550108").
    const body = digits.split('').join('[\\s\\-.()/]*');
    return new RegExp(`(?<!\\d)(?:\\+\\s*)?${body}(?!\\d)`, 'g');
  }
  const words = v.split(/\s+/).map(escapeRegExp).join('\\s+');
  return new RegExp(
    `(?<![\\p{L}\\p{N}_])${words}(?![\\p{L}\\p{N}_])`,
    caseSensitive ? 'gu' : 'giu',
  );
}

// ------------------------------------------------------------------------------ the vault

/**
 * Reversible pseudonyms for ONE agent run (one tenant, one run id). The mapping lives only in
 * this object's private fields: it has no accessor, no `toJSON`, no export, and
 * `JSON.stringify(vault)` shows only the tenant and the run. Drop the vault when the run ends.
 *
 * Order of use in an agent run:
 *  1. `pseudonymise` personal field values and `scrubText` free text before anything reaches a
 *     prompt;
 *  2. the model sees and writes tokens (`⟦PERSON_1⟧`) only;
 *  3. `restoreForExecution` replaces tokens by the originals ONLY inside an action payload, and
 *     ONLY after policy (and, when asked, a human) has decided on the pseudonymised proposal.
 */
export class PseudonymVault {
  readonly #byKey = new Map<string, string>();
  readonly #byToken = new Map<string, string>();
  readonly #counters = new Map<PseudonymKind, number>();

  constructor(
    readonly tenantId: string,
    readonly runId: string,
  ) {
    if (!tenantId) throw new Error('PseudonymVault needs a tenant id');
    if (!runId) throw new Error('PseudonymVault needs a run id');
  }

  /** How many distinct values the vault holds. */
  get size(): number {
    return this.#byToken.size;
  }

  /** True when `token` was issued by this vault. */
  has(token: string): boolean {
    return this.#byToken.has(token);
  }

  /**
   * The token for `value`: the same value (after normalising case and spacing for names, case
   * for emails, separators for phones) always gets the same token within this vault.
   */
  pseudonymise(value: string | number | boolean, kind: PseudonymKind): string {
    const original = String(value);
    if (original.trim() === '') return original; // nothing to hide
    if (isToken(original)) return original; // already a token: never wrap twice
    const key = `${kind}:${normalisedKey(original, kind)}`;
    const existing = this.#byKey.get(key);
    if (existing) return existing;
    const n = (this.#counters.get(kind) ?? 0) + 1;
    this.#counters.set(kind, n);
    const token = `${TOKEN_OPEN}${KIND_LABEL[kind]}_${n}${TOKEN_CLOSE}`;
    this.#byKey.set(key, token);
    this.#byToken.set(token, original);
    return token;
  }

  /**
   * Free text ready for a prompt: every known value (and, for people, each part of the name of
   * three letters or more) is replaced by its token, then emails, IBAN-like, card-like and
   * phone-like numbers nobody told us about are found by pattern and tokenised too. Token
   * brackets already present in the text are defused first (`⟦` → `[`), so untrusted text
   * cannot smuggle in a token that `restoreForExecution` would later fill with someone's data.
   */
  scrubText(text: string, knownValues: readonly KnownValue[] = []): string {
    let out = text.normalize('NFKC').replaceAll(TOKEN_OPEN, '[').replaceAll(TOKEN_CLOSE, ']');

    const replacements: Array<{
      pattern: RegExp;
      token: string;
      length: number;
      kind: PseudonymKind;
    }> = [];
    for (const known of knownValues) {
      const value = String(known.value ?? '').trim();
      if (!value || isToken(value)) continue;
      const pattern = knownValuePattern(value, known.kind);
      if (pattern)
        replacements.push({
          pattern,
          token: this.pseudonymise(value, known.kind),
          length: value.length,
          kind: known.kind,
        });
      if (known.kind === 'person') {
        const parts = value.split(/\s+/).filter((p) => p.replace(/[^\p{L}]/gu, '').length >= 3);
        if (parts.length > 1)
          for (const part of parts) {
            // Case-sensitive: a part alone ("Will", "May") is a name only when capitalised.
            const partPattern = knownValuePattern(part, 'person', true);
            if (partPattern)
              replacements.push({
                pattern: partPattern,
                token: this.pseudonymise(part, 'person'),
                length: part.length,
                kind: 'person',
              });
          }
      }
    }
    // Emails first (an address must not be cut up by a name inside it), then the other known
    // values, longest first ("Dana Lee" before "Dana"), then patterns. Never inside a token.
    replacements.sort(
      (a, b) => Number(b.kind === 'email') - Number(a.kind === 'email') || b.length - a.length,
    );
    const emails = replacements.filter((r) => r.kind === 'email');
    for (const r of emails) out = replaceOutsideTokens(out, r.pattern, () => r.token);
    out = replaceOutsideTokens(out, EMAIL_PATTERN, (m) => this.pseudonymise(m, 'email'));
    for (const r of replacements.filter((x) => x.kind !== 'email'))
      out = replaceOutsideTokens(out, r.pattern, () => r.token);
    out = replaceOutsideTokens(out, IBAN_PATTERN, (m) =>
      /\d/.test(m.slice(4)) ? this.pseudonymise(m, 'iban') : m,
    );
    out = replaceOutsideTokens(out, NUMBER_PATTERN, (m) => {
      const kind = numberKind(m);
      return kind ? this.pseudonymise(m.trim(), kind) : m;
    });
    return out;
  }

  /**
   * EXECUTION ONLY. Replaces this vault's tokens in `text` by the original values.
   *
   * Call it only on the fields of an action payload that policy has already decided on (ALLOW,
   * or APPROVE/EDIT_APPROVE after review), right before the payload goes to the connector. Never
   * call it on text that goes back to a model, into a log, an event, a proposal, an audit record
   * or a review screen: those keep the tokens. Token-shaped strings the vault did not issue are
   * left as they are and listed in `unknownTokens`.
   */
  restoreForExecution(text: string): RestoreResult {
    const unknown = new Set<string>();
    const restored = text.replace(TOKEN_PATTERN, (token) => {
      const original = this.#byToken.get(token);
      if (original === undefined) {
        unknown.add(token);
        return token;
      }
      return original;
    });
    return { text: restored, unknownTokens: [...unknown] };
  }

  /**
   * EXECUTION ONLY. `restoreForExecution` applied to every string inside a decided action payload
   * (a `CrmAction`, plain objects and arrays); returns a restored copy, the input is untouched.
   * Same rules as `restoreForExecution`.
   */
  restorePayloadForExecution<T>(payload: T): { payload: T; unknownTokens: readonly string[] } {
    const unknown = new Set<string>();
    const walk = (value: unknown): unknown => {
      if (typeof value === 'string') {
        const r = this.restoreForExecution(value);
        r.unknownTokens.forEach((t) => unknown.add(t));
        return r.text;
      }
      if (Array.isArray(value)) return value.map(walk);
      if (value !== null && typeof value === 'object') {
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) return value; // Date, Buffer, ...: as is
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
      }
      return value;
    };
    return { payload: walk(payload) as T, unknownTokens: [...unknown] };
  }

  /** For loggers and debuggers: never the mapping. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PseudonymVault { tenantId: ${this.tenantId}, runId: ${this.runId}, size: ${this.size} }`;
  }
}

// ------------------------------------------------------------------------------ canaries (tests)

export type CanaryKind = 'email' | 'name' | 'phone' | 'iban' | 'card' | 'text';

const LETTERS = 'bcdfghjklmnpqrstvwxz';

function randomWord(length: number): string {
  let word = '';
  for (let i = 0; i < length; i++) word += LETTERS[randomInt(LETTERS.length)];
  return word[0].toUpperCase() + word.slice(1);
}

function randomDigits(length: number): string {
  let digits = '';
  for (let i = 0; i < length; i++) digits += String(randomInt(10));
  return digits;
}

/** 12 random lower-case letters and digits, starting with a letter (never a bare number). */
function randomId(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  let id = alphabet[randomInt(23)];
  for (let i = 1; i < 12; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

function withLuhnCheckDigit(partial: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(partial + d)) return partial + d;
  throw new Error('unreachable: a Luhn check digit always exists');
}

/**
 * A unique, recognisable fake value for leak tests: plant it in a record, run the pipeline, then
 * `containsCanary` on everything that left (prompt, logs, events). `email` looks like
 * `CANARY-<random>@canary.example`; the others have the shape of their kind, so pattern detection
 * gets exercised too.
 */
export function canary(kind: CanaryKind = 'email'): string {
  const id = randomId();
  switch (kind) {
    case 'email':
      return `CANARY-${id}@canary.example`;
    case 'name':
      return `${randomWord(7)} ${randomWord(9)}`;
    case 'phone':
      return `+1 555 ${randomDigits(3)} ${randomDigits(4)}`;
    case 'iban':
      return `DE${randomDigits(2)} ${randomDigits(4)} ${randomDigits(4)} ${randomDigits(4)} ${randomDigits(4)} ${randomDigits(2)}`;
    case 'card':
      return withLuhnCheckDigit(`4${randomDigits(14)}`).replace(/(\d{4})(?=\d)/g, '$1 ');
    case 'text':
      return `CANARY-${id}`;
  }
}

function squash(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/**
 * The canaries found in `text`, however they were re-spaced or re-cased ("+1 555 123 4567" is
 * found as "+15551234567"); for names, each part of four letters or more counts on its own.
 */
export function canariesIn(text: string, canaries: readonly string[]): string[] {
  const haystack = squash(text);
  return canaries.filter((c) => {
    const nameParts = c.split(/\s+/).filter((p) => /^\p{L}{4,}$/u.test(p));
    const needles = [c, ...nameParts].map(squash);
    return needles.some((n) => n.length > 0 && haystack.includes(n));
  });
}

/** True when any canary survives in `text` (see `canariesIn`). */
export function containsCanary(text: string, canaries: readonly string[]): boolean {
  return canariesIn(text, canaries).length > 0;
}
