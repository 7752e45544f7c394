import type { FieldValue, RecordFields } from './field-access';

/** How some input (an email, a request, a model's plan) names a person. */
export interface Mention {
  readonly name?: string;
  readonly email?: string;
  /** The account the person is said to belong to (a known record id, not a name). */
  readonly accountId?: string;
  readonly title?: string;
  /** Other words from the input that may tell candidates apart ("finance", "data team"). */
  readonly hints?: readonly string[];
}

/** A record the mention could mean; the caller loads them (same tenant, relevant object types). */
export interface CandidateRecord {
  readonly objectType: string;
  readonly id: string;
  readonly fields: RecordFields;
}

export interface AmbiguousCandidate {
  readonly id: string;
  readonly objectType: string;
  /** Why it is a candidate and what sets it apart (no personal values: names, emails, phones). */
  readonly why: string;
}

/**
 * `resolved`: exactly one record, with the evidence (for the explainability record).
 * `ambiguous`: more than one record fits, or the only fit is contradicted or only partly matches
 * (never pick one: hand off with the candidates). `none`: nothing fits.
 */
export type Resolution =
  | {
      readonly kind: 'resolved';
      readonly id: string;
      readonly objectType: string;
      readonly evidence: readonly string[];
    }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly AmbiguousCandidate[] }
  | { readonly kind: 'none' };

// ------------------------------------------------------------------------------ text helpers

function normalise(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}@.+_-]+/gu, ' ')
    .trim();
}

function words(text: string): string[] {
  return normalise(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

function stringField(fields: RecordFields, name: string): string | undefined {
  const value: FieldValue | undefined = fields[name];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function normaliseEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

type NameMatch = 'exact' | 'partial' | 'none';

/** "Dana Lee" vs "dana  lee" is exact; "Dana" or "D. Lee" vs "Dana Lee" is partial. */
function nameMatch(mentioned: string, onRecord: string | undefined): NameMatch {
  if (onRecord === undefined) return 'none';
  const m = words(mentioned);
  const r = words(onRecord);
  if (m.length === 0) return 'none';
  if (m.join(' ') === r.join(' ')) return 'exact';
  const partial = m.every((t) => r.some((w) => w === t || (t.length === 1 && w.startsWith(t))));
  return partial ? 'partial' : 'none';
}

/** True when the phrase occurs in `value` as whole words. */
function containsPhrase(value: string, phrase: string): boolean {
  const v = ` ${words(value).join(' ')} `;
  const p = words(phrase).join(' ');
  return p.length > 0 && v.includes(` ${p} `);
}

function titleMatches(mentioned: string, onRecord: string | undefined): boolean {
  if (onRecord === undefined) return false;
  return containsPhrase(onRecord, mentioned) || containsPhrase(mentioned, onRecord);
}

/** The first field (never `name`, `id`) whose value contains the hint, or the id itself. */
function hintField(candidate: CandidateRecord, hint: string): string | undefined {
  if (normalise(hint) === normalise(candidate.id)) return 'id';
  for (const [field, value] of Object.entries(candidate.fields)) {
    if (field === 'name' || typeof value !== 'string') continue;
    if (containsPhrase(value, hint)) return field;
  }
  return undefined;
}

function describe(candidate: CandidateRecord, reasons: readonly string[]): string {
  const facts = [...reasons];
  const title = stringField(candidate.fields, 'title');
  if (title) facts.push(`title "${title}"`);
  const account = stringField(candidate.fields, 'accountId');
  if (account) facts.push(`account ${account}`);
  return `${candidate.objectType} ${candidate.id}: ${facts.join('; ')}`;
}

// ------------------------------------------------------------------------------ people

/**
 * Which record a mention of a person means, from the data alone; it never guesses.
 *
 * 1. An email that matches exactly one candidate's `email` resolves it, unless the account, the
 *    title or the name in the mention contradicts that record (then: ambiguous, for a human).
 * 2. Otherwise the name must match (case, accents and spacing ignored). The matches are narrowed
 *    by `accountId` (a hard filter: none left means `none`), then `title` (a title matching no
 *    candidate keeps them all but blocks resolution: the input contradicts the data), then each
 *    hint, matched as whole words against the other string fields (a hint that fits all or none
 *    of the candidates is ignored).
 * 3. Exactly one left, matched on the full name with nothing contradicting it: resolved. Two or
 *    more, or one that only partly matches the name, or an email that matched nobody: ambiguous,
 *    with every remaining candidate and why. A mention with neither name nor email: none.
 */
export function resolveMention(
  mention: Mention,
  candidates: readonly CandidateRecord[],
): Resolution {
  const reasons = new Map<CandidateRecord, string[]>();
  const reason = (c: CandidateRecord, text: string) => {
    const list = reasons.get(c) ?? [];
    list.push(text);
    reasons.set(c, list);
  };
  const evidence: string[] = [];
  let blocked = false; // something prevents resolving to a single record

  let pool: CandidateRecord[] = [];
  const email = mention.email?.trim() ? normaliseEmail(mention.email) : undefined;
  if (email) {
    pool = candidates.filter((c) => {
      const onRecord = stringField(c.fields, 'email');
      return onRecord !== undefined && normaliseEmail(onRecord) === email;
    });
    pool.forEach((c) => reason(c, 'email matches'));
    if (pool.length > 0) evidence.push('email matches the email on record');
    if (pool.length > 0 && mention.name) {
      const name = mention.name;
      pool.forEach((c) => {
        if (nameMatch(name, stringField(c.fields, 'name')) === 'none') {
          reason(c, 'but the name on record differs');
          blocked = true;
        }
      });
    }
  }
  const matchedByEmail = pool.length > 0;
  if (!matchedByEmail) {
    if (!mention.name?.trim()) return { kind: 'none' };
    const name = mention.name;
    if (email) blocked = true; // the given email matched nobody: the name alone is not enough
    const exact = candidates.filter(
      (c) => nameMatch(name, stringField(c.fields, 'name')) === 'exact',
    );
    if (exact.length > 0) {
      pool = exact;
      pool.forEach((c) => reason(c, email ? 'name matches (the email does not)' : 'name matches'));
      evidence.push('full name matches');
    } else {
      pool = candidates.filter((c) => nameMatch(name, stringField(c.fields, 'name')) === 'partial');
      pool.forEach((c) => reason(c, 'name partly matches'));
      blocked = true;
    }
  }
  if (pool.length === 0) return { kind: 'none' };

  if (mention.accountId) {
    const accountId = mention.accountId;
    const atAccount = pool.filter((c) => c.fields['accountId'] === accountId);
    if (atAccount.length > 0) {
      pool = atAccount;
      evidence.push('account matches');
    } else if (matchedByEmail) {
      // The email says who; the input says they are elsewhere: a human decides.
      pool.forEach((c) => reason(c, 'but the account on record differs'));
      blocked = true;
    } else return { kind: 'none' };
  }

  if (mention.title?.trim()) {
    const title = mention.title;
    const withTitle = pool.filter((c) => titleMatches(title, stringField(c.fields, 'title')));
    if (withTitle.length === 0) {
      pool.forEach((c) =>
        reason(
          c,
          stringField(c.fields, 'title') ? 'but the title on record differs' : 'no title on record',
        ),
      );
      blocked = true;
    } else {
      if (withTitle.length < pool.length) evidence.push('title matches');
      pool = withTitle;
    }
  }

  for (const hint of mention.hints ?? []) {
    if (pool.length <= 1) break;
    if (normalise(hint).length < 3) continue;
    const matched = pool
      .map((c) => ({ c, field: hintField(c, hint) }))
      .filter((m): m is { c: CandidateRecord; field: string } => m.field !== undefined);
    if (matched.length === 0 || matched.length === pool.length) continue; // tells nobody apart
    pool = matched.map((m) => m.c);
    evidence.push(
      `hint "${hint}" matches the ${matched[0].field} of only ${matched.length} candidate(s)`,
    );
    matched.forEach((m) => reason(m.c, `hint "${hint}" matches ${m.field}`));
  }

  if (pool.length === 1 && !blocked) {
    const [only] = pool;
    return { kind: 'resolved', id: only.id, objectType: only.objectType, evidence };
  }
  return {
    kind: 'ambiguous',
    candidates: pool.map((c) => ({
      id: c.id,
      objectType: c.objectType,
      why: describe(c, reasons.get(c) ?? []),
    })),
  };
}

// ------------------------------------------------------------------------------ cases

const STOPWORDS = new Set(
  [
    'about after again also been before being could does from have having into just more most',
    'need needs only other over please since some still than that their them then there these',
    'they this those very what when where which while will with would your yours ours issue',
    'issues problem problems error errors ticket tickets case cases request requests working',
    'work works worked help thanks thank today yesterday tomorrow morning evening week weekend',
    'monday tuesday wednesday thursday friday saturday sunday january february march april june',
    'july august september october november december hello dear regards team every each',
  ]
    .join(' ')
    .split(' '),
);

function stem(word: string): string {
  let w = word;
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 4 && w.endsWith('es') && /(ss|x|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  if (w.length > 3 && /([b-df-hj-np-tv-z])\1$/.test(w)) w = w.slice(0, -1); // resett → reset
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1); // schedule → schedul
  return w;
}

/** Significant word stems of a text: four letters or more, stopwords left out. */
function keywords(text: string): Set<string> {
  return new Set(
    words(text)
      .filter((w) => w.length >= 4 && !STOPWORDS.has(w) && !/^\d+$/.test(w))
      .map(stem),
  );
}

/** Words that point back at an existing case without naming it. */
const BACK_REFERENCE =
  /\b(still|again|any (news|update)|follow(ing)?[ -]?up|my (ticket|case|issue|request|problem)|the (ticket|case|issue|problem|request)|this (ticket|case|issue|problem)|same (issue|problem)|re:)/i;

const CLOSED = /^(closed|resolved|cancel+ed|done|solved)$/i;

function isOpen(c: CandidateRecord): boolean {
  const status = c.fields['status'];
  return !(typeof status === 'string' && CLOSED.test(status.trim()));
}

function mentionsId(text: string, id: string): boolean {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu').test(text);
}

/**
 * Which open case a message means ("my ticket", "it is still not working"), from the data alone.
 * Pass the SENDER's open cases (closed ones are ignored): the text is untrusted, so it may only
 * choose among cases it could legitimately refer to. Resolves only when exactly one open case
 * matches:
 *
 * 1. by its id (or `caseNumber`) in the text; two named: ambiguous;
 * 2. else by significant subject words: resolved when exactly one case shares any, and it shares
 *    two (or all, for a one-word subject) or is the sender's only open case; one shared word with
 *    other cases open, or words shared with several cases: ambiguous (with those cases);
 * 3. else, a text that points back at an existing case ("still", "again", "my ticket"): the
 *    sender's only open case, or ambiguous among all of them;
 * 4. else the text refers to no case: none.
 */
export function resolveCaseReference(
  text: string,
  openCases: readonly CandidateRecord[],
): Resolution {
  const open = openCases.filter(isOpen);
  if (open.length === 0) return { kind: 'none' };

  const named = open.filter((c) => {
    const number = c.fields['caseNumber'];
    return mentionsId(text, c.id) || (typeof number === 'string' && mentionsId(text, number));
  });
  if (named.length === 1)
    return {
      kind: 'resolved',
      id: named[0].id,
      objectType: named[0].objectType,
      evidence: ['the text names the case'],
    };
  if (named.length > 1)
    return {
      kind: 'ambiguous',
      candidates: named.map((c) => ({
        id: c.id,
        objectType: c.objectType,
        why: `${c.objectType} ${c.id}: named in the text`,
      })),
    };

  const inText = keywords(text);
  const scored = open.map((c) => {
    const subject = keywords(stringField(c.fields, 'subject') ?? '');
    const shared = [...subject].filter((k) => inText.has(k));
    // Strong: two subject words (or every one, for a one-word subject). One word alone is weak.
    return { c, shared, strong: shared.length > 0 && shared.length >= Math.min(2, subject.size) };
  });
  const matching = scored.filter((m) => m.shared.length > 0);
  const sharing = (m: (typeof scored)[number]): AmbiguousCandidate => ({
    id: m.c.id,
    objectType: m.c.objectType,
    why: `${m.c.objectType} ${m.c.id}: subject shares ${m.shared.join(', ')}`,
  });
  const resolved = (c: CandidateRecord, why: string): Resolution => ({
    kind: 'resolved',
    id: c.id,
    objectType: c.objectType,
    evidence: [why],
  });

  if (matching.length === 1) {
    const [only] = matching;
    if (only.strong)
      return resolved(
        only.c,
        `the text shares subject words (${only.shared.join(', ')}) with this open case only`,
      );
    if (open.length === 1)
      return resolved(
        only.c,
        `the text shares a subject word (${only.shared.join(', ')}) with the sender's only open case`,
      );
  }
  if (matching.length > 0) return { kind: 'ambiguous', candidates: matching.map(sharing) };

  const refersBack = BACK_REFERENCE.test(text);
  if (refersBack && open.length === 1)
    return resolved(
      open[0],
      'the text refers back to an open case and the sender has only this one',
    );
  if (!refersBack) return { kind: 'none' };
  return {
    kind: 'ambiguous',
    candidates: open.map((c) => ({
      id: c.id,
      objectType: c.objectType,
      why: `${c.objectType} ${c.id}: open case "${stringField(c.fields, 'subject') ?? '(no subject)'}"`,
    })),
  };
}
