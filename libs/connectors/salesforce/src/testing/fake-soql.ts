import { parseSfDateTime } from '../sf-dates';

/**
 * The subset of SOQL the fake answers (SOQL and SOSL Reference, "SOQL SELECT Syntax"):
 *
 *   SELECT field, ... FROM Object
 *   [WHERE cond]            cond := cmp | cond AND cond | cond OR cond | ( cond )
 *                           cmp  := field (= | != | <> | < | <= | > | >=) literal
 *                           literal := 'string' | number | true | false | null
 *                                    | datetime (2025-01-01T00:00:00Z, ...+00:00, .000Z)
 *   [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]
 *   [LIMIT n]
 *
 * String literals take SOQL's escape sequences (\n \r \t \b \f \" \' \\; "Quoted String
 * Escape Sequences"); any other backslash is malformed. `=` and `!=` on text compare
 * case-insensitively, except on case-sensitive unique fields ("Comparison Operators": string
 * comparisons are case-insensitive); nulls sort first ascending and last descending unless
 * NULLS FIRST/LAST says otherwise ("ORDER BY").
 *
 * Anything else is a MALFORMED_QUERY, as a real org would answer for a query it cannot parse.
 */
export interface SoqlQuery {
  readonly fields: readonly string[];
  readonly from: string;
  readonly where?: SoqlCondition;
  readonly orderBy: readonly {
    readonly field: string;
    readonly desc: boolean;
    readonly nullsLast: boolean;
  }[];
  readonly limit?: number;
}

export type SoqlLiteral =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'datetime'; readonly value: number }
  | { readonly kind: 'null' };

export type SoqlCondition =
  | { readonly op: 'and' | 'or'; readonly left: SoqlCondition; readonly right: SoqlCondition }
  | {
      readonly op: 'cmp';
      readonly field: string;
      readonly cmp: string;
      readonly value: SoqlLiteral;
    };

export class SoqlError extends Error {
  override readonly name = 'SoqlError';
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
};

type Token = { t: 'word' | 'string' | 'number' | 'datetime' | 'op' | 'punct'; v: string };

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const datetime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})/;
  while (i < soql.length) {
    const rest = soql.slice(i);
    const c = soql.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const dt = datetime.exec(rest);
    if (dt) {
      tokens.push({ t: 'datetime', v: dt[0] });
      i += dt[0].length;
      continue;
    }
    if (c === "'") {
      let v = '';
      let j = i + 1;
      for (; j < soql.length && soql.charAt(j) !== "'"; j++) {
        if (soql.charAt(j) !== '\\') {
          v += soql.charAt(j);
          continue;
        }
        j++;
        const escaped = ESCAPES[soql.charAt(j)];
        if (escaped === undefined) throw new SoqlError('invalid escape sequence in a string');
        v += escaped;
      }
      if (j >= soql.length) throw new SoqlError('unterminated string literal');
      tokens.push({ t: 'string', v });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?/.exec(rest);
    if (num) {
      tokens.push({ t: 'number', v: num[0] });
      i += num[0].length;
      continue;
    }
    const op = /^(<=|>=|!=|<>|=|<|>)/.exec(rest);
    if (op) {
      tokens.push({ t: 'op', v: op[0] === '<>' ? '!=' : op[0] });
      i += op[0].length;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (word) {
      tokens.push({ t: 'word', v: word[0] });
      i += word[0].length;
      continue;
    }
    throw new SoqlError(`unexpected character at ${i}`);
  }
  return tokens;
}

export function parseSoql(soql: string): SoqlQuery {
  const tokens = tokenize(soql);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (w: string) => peek()?.t === 'word' && peek()!.v.toUpperCase() === w;
  const expectWord = (w: string) => {
    if (!isWord(w)) throw new SoqlError(`expected ${w}`);
    pos++;
  };
  const ident = (): string => {
    const tok = peek();
    if (tok?.t !== 'word') throw new SoqlError('expected a field or object name');
    pos++;
    return tok.v;
  };

  expectWord('SELECT');
  const fields = [ident()];
  while (peek()?.v === ',') {
    pos++;
    fields.push(ident());
  }
  expectWord('FROM');
  const from = ident();

  const literal = (): SoqlLiteral => {
    const tok = peek();
    if (!tok) throw new SoqlError('expected a value');
    pos++;
    if (tok.t === 'string') return { kind: 'string', value: tok.v };
    if (tok.t === 'number') return { kind: 'number', value: Number(tok.v) };
    if (tok.t === 'datetime') {
      const ms = parseSfDateTime(tok.v);
      if (ms === undefined) throw new SoqlError('invalid datetime literal');
      return { kind: 'datetime', value: ms };
    }
    if (tok.t === 'word' && /^(true|false)$/i.test(tok.v))
      return { kind: 'boolean', value: tok.v.toLowerCase() === 'true' };
    if (tok.t === 'word' && /^null$/i.test(tok.v)) return { kind: 'null' };
    throw new SoqlError('expected a value');
  };
  const primary = (): SoqlCondition => {
    if (peek()?.v === '(') {
      pos++;
      const c = disjunction();
      if (peek()?.v !== ')') throw new SoqlError('expected )');
      pos++;
      return c;
    }
    const field = ident();
    const op = peek();
    if (op?.t !== 'op') throw new SoqlError('expected a comparison operator');
    pos++;
    return { op: 'cmp', field, cmp: op.v, value: literal() };
  };
  const conjunction = (): SoqlCondition => {
    let left = primary();
    while (isWord('AND')) {
      pos++;
      left = { op: 'and', left, right: primary() };
    }
    return left;
  };
  const disjunction = (): SoqlCondition => {
    let left = conjunction();
    while (isWord('OR')) {
      pos++;
      left = { op: 'or', left, right: conjunction() };
    }
    return left;
  };

  let where: SoqlCondition | undefined;
  if (isWord('WHERE')) {
    pos++;
    where = disjunction();
  }
  const orderBy: { field: string; desc: boolean; nullsLast: boolean }[] = [];
  if (isWord('ORDER')) {
    pos++;
    expectWord('BY');
    for (;;) {
      const field = ident();
      let desc = false;
      if (isWord('ASC')) pos++;
      else if (isWord('DESC')) {
        pos++;
        desc = true;
      }
      let nullsLast = desc;
      if (isWord('NULLS')) {
        pos++;
        if (isWord('FIRST')) nullsLast = false;
        else if (isWord('LAST')) nullsLast = true;
        else throw new SoqlError('expected FIRST or LAST after NULLS');
        pos++;
      }
      orderBy.push({ field, desc, nullsLast });
      if (peek()?.v !== ',') break;
      pos++;
    }
  }
  let limit: number | undefined;
  if (isWord('LIMIT')) {
    pos++;
    const tok = peek();
    if (tok?.t !== 'number' || !/^\d+$/.test(tok.v)) throw new SoqlError('LIMIT needs an integer');
    pos++;
    limit = Number(tok.v);
  }
  if (pos !== tokens.length) throw new SoqlError('unexpected input after the query');
  return { fields, from, where, orderBy, limit };
}

/** Orders two field values as Salesforce does for ORDER BY (nulls first, datetimes by instant). */
export function compareValues(a: unknown, b: unknown): number {
  const na = a === null || a === undefined;
  const nb = b === null || b === undefined;
  if (na || nb) return na && nb ? 0 : na ? -1 : 1;
  const da = parseSfDateTime(a);
  const db = parseSfDateTime(b);
  if (da !== undefined && db !== undefined) return da - db;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function compareToLiteral(value: unknown, lit: SoqlLiteral): number | undefined {
  if (lit.kind === 'null') return value === null || value === undefined ? 0 : undefined;
  if (value === null || value === undefined) return undefined;
  if (lit.kind === 'datetime') {
    const ms = parseSfDateTime(value);
    return ms === undefined ? undefined : ms - lit.value;
  }
  if (lit.kind === 'number') return typeof value === 'number' ? value - lit.value : undefined;
  if (lit.kind === 'boolean') return value === lit.value ? 0 : 1;
  const s = String(value);
  return s < lit.value ? -1 : s > lit.value ? 1 : 0;
}

/** Every field a condition names. */
export function conditionFields(c: SoqlCondition | undefined): string[] {
  if (!c) return [];
  return c.op === 'cmp' ? [c.field] : [...conditionFields(c.left), ...conditionFields(c.right)];
}

/**
 * Whether a record satisfies a condition. `caseSensitive(field)`: the field is a case-sensitive
 * unique field (its `=`/`!=` compare exactly; every other text field ignores case).
 */
export function matches(
  record: Readonly<Record<string, unknown>>,
  c: SoqlCondition,
  caseSensitive: (field: string) => boolean = () => false,
): boolean {
  if (c.op !== 'cmp')
    return c.op === 'and'
      ? matches(record, c.left, caseSensitive) && matches(record, c.right, caseSensitive)
      : matches(record, c.left, caseSensitive) || matches(record, c.right, caseSensitive);
  const value = record[c.field];
  if (
    (c.cmp === '=' || c.cmp === '!=') &&
    c.value.kind === 'string' &&
    typeof value === 'string' &&
    !caseSensitive(c.field)
  ) {
    const same = value.toLowerCase() === c.value.value.toLowerCase();
    return c.cmp === '=' ? same : !same;
  }
  const d = compareToLiteral(value, c.value);
  if (c.cmp === '!=') return d !== 0;
  if (d === undefined) return false;
  switch (c.cmp) {
    case '=':
      return d === 0;
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '>':
      return d > 0;
    case '>=':
      return d >= 0;
    default:
      return false;
  }
}
