import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectedFault } from '@mandate/connector-conformance';
import { KEY_PREFIXES, toId18 } from '../ids';
import { formatSfDateTime, parseSfDateTime } from '../sf-dates';
import { SoqlError, compareValues, conditionFields, matches, parseSoql } from './fake-soql';

/**
 * A local stand-in for a Salesforce org: a node:http server on 127.0.0.1 speaking the REST API
 * shapes the adapter relies on, with the org's state in memory. Shapes follow Salesforce's
 * documentation; where it says nothing the choice is marked "assumed" (README, "Verified here vs
 * needs a sandbox org"). Sources (REST API Developer Guide = developer.salesforce.com/docs/
 * atlas.en-us.api_rest.meta/api_rest/<page>):
 *
 * - Errors — "Status Codes and Error Responses" (errorcodes.htm): the body is a JSON array of
 *   `{"message", "errorCode", "fields"}`; 401 when the session ID or OAuth token expired or is
 *   invalid (errorCode INVALID_SESSION_ID); 403 with REQUEST_LIMIT_EXCEEDED when the org's API
 *   request limit is exceeded; 404 NOT_FOUND; 300 when an external id matches several records;
 *   412 when a precondition failed. The REQUEST_LIMIT_EXCEEDED message ("TotalRequests Limit
 *   exceeded.") is as orgs answer it; the Retry-After header on it is assumed (Salesforce does
 *   not document one; the conformance kit needs it).
 * - Limits — "Limit Info Header" (headers_api_usage.htm): `Sforce-Limit-Info: api-usage=n/limit`
 *   on REST responses.
 * - Token refresh — Salesforce Help "OAuth 2.0 Refresh Token Flow for Renewed Sessions"
 *   (help.salesforce.com, remoteaccess_oauth_refresh_token_flow.htm) and the REST guide's
 *   intro_understanding_refresh_token_oauth.htm: POST /services/oauth2/token, form-encoded
 *   grant_type=refresh_token, refresh_token, client_id, client_secret; the answer is
 *   `{access_token, signature, scope, instance_url, id, token_type, issued_at}` (signature:
 *   Base64 HMAC-SHA256 of id + issued_at keyed by the consumer secret; a new refresh_token only
 *   with refresh token rotation). A dead grant answers 400 `{"error": "invalid_grant",
 *   "error_description": "expired access/refresh token"}` (as reported in practice, e.g.
 *   nango.dev/blog/salesforce-oauth-refresh-token-invalid-grant; not in the reference docs).
 * - Records — "Get Records Using sObject Rows" (resources_sobject_retrieve_get.htm, `?fields=`
 *   and `attributes {type, url}`), "Update Records Using sObject Rows"
 *   (resources_sobject_retrieve_patch.htm, 204), create: 201 `{id, success, errors}`.
 * - Upsert — "Insert or Update (Upsert) a Record Using an External ID" (dome_upsert.htm) and
 *   "sObject Rows by External ID" (resources_sobject_upsert.htm): PATCH /sobjects/Obj/Field/value
 *   → 201 `{id, success, errors, created: true}` when it created, 204 when it updated an existing
 *   record, 300 when the value matches several; GET by external id.
 * - Conditional requests — "Conditional Request Headers" (api_rest.meta/api/
 *   intro_rest_conditional_requests.htm): If-Unmodified-Since is a weak validator against the
 *   record's last-modified date; 412 when it changed; an invalid value is 400. The 412 body's
 *   errorCode (PRECONDITION_FAILED) is assumed.
 * - Composite — "Send Multiple Requests Using Composite" (resources_composite_composite_post.htm),
 *   "allOrNone Parameters in Composite and Collections Requests" (resources_composite_allornone
 *   .htm) and the Composite Response Body (api_tooling ... tooling_responses_composite_composite
 *   .htm): `{allOrNone, compositeRequest: [{method, url, referenceId, body, httpHeaders}]}` → 200
 *   `{compositeResponse: [{body, httpHeaders, httpStatusCode, referenceId}]}`; with allOrNone an
 *   error in one subrequest rolls the whole request back and the other subrequests answer 400.
 *   The PROCESSING_HALTED errorCode and message of those others are as orgs answer them (assumed
 *   wording). A composite request counts as one API call.
 * - Query — "Execute a SOQL Query" (dome_query.htm), "Query" (resources_query.htm), "Query More
 *   Results" (resources_query_more_results.htm): GET /query?q= → `{totalSize, done, records,
 *   nextRecordsUrl}`, next batches at /query/{locator}; up to 2,000 records per batch; an
 *   invalid query answers MALFORMED_QUERY. SOQL datetime literals are unquoted
 *   (SOQL and SOSL Reference, sforce_api_calls_soql_select_dateformats.htm).
 * - Datetimes are `2025-01-01T10:00:00.000+0000`. The org's clock is virtual: each write
 *   transaction moves it one second on, so SystemModstamp strictly increases (unless frozen).
 */

export type SfRecord = Record<string, unknown>;

/** Any Salesforce error answer, for tests of the error mapping. */
export interface FakeError {
  readonly status: number;
  readonly errorCode: string;
  readonly message?: string;
  readonly fields?: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  /** Only fail writes (POST/PATCH/DELETE, composite). */
  readonly mutatingOnly?: boolean;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  /** The query string (the SOQL of /query, the fields of a GET), decoded. */
  readonly query: string;
  readonly status: number;
  /** The parsed JSON body of data API requests (never anything from the token endpoint). */
  readonly body?: unknown;
  readonly authorized: boolean;
}

export interface FakeSalesforceOptions {
  /** Daily API limit reported in Sforce-Limit-Info. */
  readonly apiLimit?: number;
  /** Rows per query batch before nextRecordsUrl (Salesforce: 2000). */
  readonly queryBatchSize?: number;
  /** Issue a new refresh token on each refresh and invalidate the old one. */
  readonly rotateRefreshTokens?: boolean;
  /** Known fields per object: others answer INVALID_FIELD. Objects not listed accept any field. */
  readonly schema?: Readonly<Record<string, readonly string[]>>;
  /** Unique (case-sensitive) fields per object: a second value answers DUPLICATE_VALUE. */
  readonly uniqueFields?: Readonly<Record<string, readonly string[]>>;
  /** The virtual clock's start, ms since the epoch. */
  readonly clockStart?: number;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

type Fault = { kind: 'injected'; fault: InjectedFault } | { kind: 'error'; error: FakeError };

const SYSTEM_FIELDS = new Set([
  'Id',
  'CreatedDate',
  'LastModifiedDate',
  'SystemModstamp',
  'IsDeleted',
]);
const PROCESSING_HALTED = [
  {
    errorCode: 'PROCESSING_HALTED',
    message:
      'The transaction was rolled back since another operation in the same transaction failed.',
  },
];

const err = (
  status: number,
  errorCode: string,
  message: string,
  fields: string[] = [],
): Answer => ({
  status,
  body: [{ message, errorCode, fields }],
});

export class FakeSalesforce {
  readonly clientId = `3MVG9fake${randomBytes(8).toString('hex')}`;
  readonly clientSecret = randomBytes(16).toString('hex');
  /** Every request, in arrival order. */
  readonly requests: RequestLogEntry[] = [];
  /** Successful refresh-token grants. */
  tokenGrants = 0;
  /** Refused refresh-token grants. */
  tokenRefusals = 0;

  private currentRefreshToken = `5Aep861fake${randomBytes(16).toString('hex')}`;
  private readonly accessTokens = new Set<string>();
  private readonly store = new Map<string, Map<string, SfRecord>>();
  private readonly queryCursors = new Map<string, SfRecord[]>();
  private faults: Array<{ fault: Fault; remaining: number }> = [];
  private pendingRefreshFailures = 0;
  private tokenEndpointFailures: Array<{ status: number; remaining: number }> = [];
  private writes = 0;
  private apiCalls = 0;
  private idCounter = 0;
  private clock: number;
  private frozen = false;
  private held: Array<() => void> = [];
  private hooks: Array<{ method: string; path: RegExp; fn: () => void }> = [];
  private holdFor = 0;
  private readonly server: Server;
  private baseUrl = '';

  private constructor(private readonly options: FakeSalesforceOptions) {
    this.clock = options.clockStart ?? Date.UTC(2025, 0, 1);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // A bug in the fake, not an org answer: make it loud in the test.
        console.error('fake Salesforce failed', e);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  static async start(options: FakeSalesforceOptions = {}): Promise<FakeSalesforce> {
    const fake = new FakeSalesforce(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.baseUrl = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The org's login and instance URL. */
  get url(): string {
    return this.baseUrl;
  }

  get refreshToken(): string {
    return this.currentRefreshToken;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- direct access (not through the API; not counted as writes) ---------------------------

  /** Creates a record directly; returns its 18-character id. */
  seed(sobject: string, fields: Readonly<SfRecord>, options: { id?: string } = {}): string {
    const at = formatSfDateTime(this.tick());
    const id = options.id ?? this.newId(sobject);
    const record: SfRecord = {
      ...fields,
      Id: id,
      CreatedDate: at,
      LastModifiedDate: at,
      SystemModstamp: at,
      IsDeleted: false,
    };
    this.table(sobject).set(id, record);
    return id;
  }

  /** A copy of a record (deleted ones included, IsDeleted true); undefined if it never existed. */
  get(sobject: string, id: string): SfRecord | undefined {
    const r = this.store.get(sobject)?.get(id);
    return r ? { ...r } : undefined;
  }

  /** Copies of the live records of an object matching a predicate. */
  find(sobject: string, predicate: (r: SfRecord) => boolean = () => true): SfRecord[] {
    return [...(this.store.get(sobject)?.values() ?? [])]
      .filter((r) => r['IsDeleted'] !== true && predicate(r))
      .map((r) => ({ ...r }));
  }

  /** Changes a record as a user would: new values, new LastModifiedDate and SystemModstamp. */
  touch(sobject: string, id: string, fields: Readonly<SfRecord>): void {
    const r = this.store.get(sobject)?.get(id);
    if (!r || r['IsDeleted'] === true) throw new Error(`no live ${sobject} ${id}`);
    const at = formatSfDateTime(this.tick());
    Object.assign(r, fields, { LastModifiedDate: at, SystemModstamp: at });
  }

  /** Deletes a record as a user would (to the recycle bin: ENTITY_IS_DELETED afterwards). */
  remove(sobject: string, id: string): void {
    const r = this.store.get(sobject)?.get(id);
    if (!r) throw new Error(`no ${sobject} ${id}`);
    const at = formatSfDateTime(this.tick());
    Object.assign(r, { IsDeleted: true, LastModifiedDate: at, SystemModstamp: at });
  }

  /** Accepted mutating API requests (a committed composite request counts once). */
  writeCount(): number {
    return this.writes;
  }

  /** Fails the next `times` API calls with a conformance-kit fault (validation: writes only). */
  injectFault(fault: InjectedFault, times = 1): void {
    this.faults.push({ fault: { kind: 'injected', fault }, remaining: times });
  }

  /** Fails the next `times` API calls with any Salesforce error answer. */
  injectError(error: FakeError, times = 1): void {
    this.faults.push({ fault: { kind: 'error', error }, remaining: times });
  }

  /** Makes the token endpoint answer `status` (e.g. 503) to the next `times` grants. */
  failTokenEndpoint(status: number, times = 1): void {
    this.tokenEndpointFailures.push({ status, remaining: times });
  }

  /** Ends every session: the next call answers 401 INVALID_SESSION_ID; a refresh works. */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** Revokes the refresh token: refreshes answer invalid_grant from now on. */
  revokeRefreshToken(): void {
    this.currentRefreshToken = `revoked-${randomBytes(8).toString('hex')}`;
  }

  /**
   * Runs `fn` once, just before the org processes the next authorised API request matching
   * `method` and `path` (a RegExp on the path): how tests make "someone else" act between two of
   * the adapter's calls.
   */
  beforeNext(method: string, path: RegExp, fn: () => void): void {
    this.hooks.push({ method: method.toUpperCase(), path, fn });
  }

  /** Holds composite requests until `count` have arrived, then runs them in arrival order. */
  holdComposites(count: number): void {
    this.holdFor = count;
  }

  /** Moves the clock one second on and stops it: writes share that SystemModstamp until `unfreezeClock`. */
  freezeClock(): void {
    this.tick();
    this.frozen = true;
  }

  unfreezeClock(): void {
    this.frozen = false;
  }

  advanceClock(ms: number): void {
    this.clock += ms;
  }

  /** The org's current time (virtual). */
  now(): number {
    return this.clock;
  }

  // --- HTTP -------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === '/services/oauth2/token') return this.token(method, raw, res);

    const version = /^\/services\/data\/v(\d{2,3}\.0)(\/.*)$/.exec(url.pathname);
    const log = (status: number, body: unknown, authorized: boolean) =>
      this.requests.push({
        method,
        path: url.pathname,
        query: decodeURIComponent(url.search.replace(/^\?/, '').replace(/\+/g, ' ')),
        status,
        ...(body === undefined ? {} : { body }),
        authorized,
      });
    if (!version) {
      log(404, undefined, false);
      return this.send(res, err(404, 'NOT_FOUND', 'The requested resource does not exist'));
    }
    this.apiCalls++;
    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        log(400, undefined, true);
        return this.send(res, err(400, 'JSON_PARSER_ERROR', 'The request body is not valid JSON'));
      }
    }
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!token || !this.accessTokens.has(token)) {
      log(401, body, false);
      return this.send(res, err(401, 'INVALID_SESSION_ID', 'Session expired or invalid'));
    }
    const path = version[2];
    const mutating = method !== 'GET';
    const composite = path === '/composite' && method === 'POST';
    const fault = this.takeFault(mutating);
    let forceValidation = false;
    if (fault) {
      const answer = this.faultAnswer(fault, composite);
      if (answer) {
        log(answer.status, body, true);
        return this.send(res, answer);
      }
      forceValidation = true;
    }
    if (composite && this.holdFor > 0) await this.hold();
    const hook = this.hooks.findIndex((h) => h.method === method && h.path.test(url.pathname));
    if (hook >= 0) this.hooks.splice(hook, 1)[0].fn();
    let answer: Answer;
    if (composite) answer = this.composite(body, version[1], forceValidation);
    else {
      // A single write is its own transaction: one new SystemModstamp, undone if it fails.
      const before = mutating ? this.snapshot() : undefined;
      const stamp = mutating ? this.tick() : this.clock;
      answer = this.dispatch(
        method,
        path,
        url.searchParams,
        body,
        lowerKeys(req.headers),
        version[1],
        stamp,
      );
      if (before && answer.status < 300) this.writes++;
      else if (before) this.restore(before);
    }
    log(answer.status, body, true);
    this.send(res, answer);
  }

  private send(res: ServerResponse, answer: Answer): void {
    const headers: Record<string, string> = {
      Date: new Date(this.clock).toUTCString(),
      'Sforce-Limit-Info': `api-usage=${this.apiCalls}/${this.options.apiLimit ?? 15000}`,
      ...(answer.headers ?? {}),
    };
    if (answer.body === undefined) {
      res.writeHead(answer.status, headers).end();
      return;
    }
    res
      .writeHead(answer.status, { ...headers, 'Content-Type': 'application/json;charset=UTF-8' })
      .end(JSON.stringify(answer.body));
  }

  private hold(): Promise<void> {
    return new Promise((resolve) => {
      this.held.push(resolve);
      if (this.held.length >= this.holdFor) {
        const release = this.held;
        this.held = [];
        this.holdFor = 0;
        for (const r of release) r();
      }
    });
  }

  private takeFault(mutating: boolean): Fault | undefined {
    const i = this.faults.findIndex(({ fault }) => {
      if (fault.kind === 'injected') return fault.fault.kind !== 'validation' || mutating;
      return !fault.error.mutatingOnly || mutating;
    });
    if (i < 0) return undefined;
    const entry = this.faults[i];
    if (--entry.remaining <= 0) this.faults.splice(i, 1);
    return entry.fault;
  }

  /** The answer for a fault; undefined for a validation fault inside a composite request. */
  private faultAnswer(fault: Fault, composite: boolean): Answer | undefined {
    if (fault.kind === 'error') {
      const e = fault.error;
      return {
        ...err(e.status, e.errorCode, e.message ?? e.errorCode, [...(e.fields ?? [])]),
        headers: { ...(e.headers ?? {}) },
      };
    }
    switch (fault.fault.kind) {
      case 'rate-limit':
        return {
          ...err(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'),
          headers: { 'Retry-After': String(fault.fault.retryAfterSeconds) },
        };
      case 'server-error':
        return err(503, 'SERVER_UNAVAILABLE', 'Server temporarily unavailable');
      case 'auth-expired':
        // The session is dead and so is the grant: the refresh that follows is refused.
        this.pendingRefreshFailures++;
        return err(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      case 'validation':
        return composite ? undefined : validationError();
    }
  }

  private token(method: string, raw: string, res: ServerResponse): void {
    const params = new URLSearchParams(raw);
    const grant = params.get('grant_type') ?? '';
    const reply = (status: number, body: unknown) => {
      this.requests.push({
        method,
        path: '/services/oauth2/token',
        query: '',
        status,
        body: { grant_type: grant },
        authorized: false,
      });
      if (status >= 400) this.tokenRefusals++;
      res
        .writeHead(status, {
          'Content-Type': 'application/json;charset=UTF-8',
          'Cache-Control': 'no-store',
        })
        .end(JSON.stringify(body));
    };
    const failure = this.tokenEndpointFailures[0];
    if (failure) {
      if (--failure.remaining <= 0) this.tokenEndpointFailures.shift();
      // An outage answers an HTML error page, not OAuth JSON.
      this.requests.push({
        method,
        path: '/services/oauth2/token',
        query: '',
        status: failure.status,
        authorized: false,
      });
      res
        .writeHead(failure.status, { 'Content-Type': 'text/html' })
        .end('<html><body>Service Unavailable</body></html>');
      return;
    }
    if (method !== 'POST' || grant !== 'refresh_token')
      return reply(400, {
        error: 'unsupported_grant_type',
        error_description: 'grant type not supported',
      });
    if (
      params.get('client_id') !== this.clientId ||
      params.get('client_secret') !== this.clientSecret
    )
      return reply(400, {
        error: 'invalid_client',
        error_description: 'invalid client credentials',
      });
    if (
      this.pendingRefreshFailures > 0 ||
      params.get('refresh_token') !== this.currentRefreshToken
    ) {
      if (this.pendingRefreshFailures > 0) this.pendingRefreshFailures--;
      return reply(400, {
        error: 'invalid_grant',
        error_description: 'expired access/refresh token',
      });
    }
    const accessToken = `00D5g000000FAKE!${randomBytes(24).toString('base64url')}`;
    this.accessTokens.add(accessToken);
    this.tokenGrants++;
    const id = `${this.baseUrl}/id/00D5g000000FAKEEAA/0055g000000FAKEAAA`;
    const issuedAt = String(Date.now());
    const body: Record<string, string> = {
      access_token: accessToken,
      signature: createHmac('sha256', this.clientSecret)
        .update(id + issuedAt)
        .digest('base64'),
      scope: 'api refresh_token',
      instance_url: this.baseUrl,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    };
    if (this.options.rotateRefreshTokens) {
      this.currentRefreshToken = `5Aep861fake${randomBytes(16).toString('hex')}`;
      body['refresh_token'] = this.currentRefreshToken;
    }
    reply(200, body);
  }

  // --- the REST resources -------------------------------------------------------------------

  private dispatch(
    method: string,
    path: string,
    params: URLSearchParams,
    body: unknown,
    headers: Readonly<Record<string, string>>,
    version: string,
    stamp: number,
  ): Answer {
    if (path === '/query' && method === 'GET') return this.query(params.get('q') ?? '', version);
    const more = /^\/query\/([A-Za-z0-9-]+)$/.exec(path);
    if (more && method === 'GET') return this.queryMore(more[1], version);
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (segments[0] !== 'sobjects' || segments.length < 2 || segments.length > 4)
      return err(404, 'NOT_FOUND', 'The requested resource does not exist');
    const [, sobject, a, b] = segments;
    const fieldsParam = params.get('fields');
    const fields = fieldsParam ? fieldsParam.split(',').map((f) => f.trim()) : undefined;
    if (segments.length === 2 && method === 'POST') return this.create(sobject, body, stamp);
    if (segments.length === 3) {
      if (method === 'GET') return this.getById(sobject, a, fields, version);
      if (method === 'PATCH') return this.update(sobject, a, body, headers, stamp);
      if (method === 'DELETE') return this.delete(sobject, a, stamp);
    }
    if (segments.length === 4) {
      if (method === 'GET') return this.getByExternalId(sobject, a, b, fields, version);
      if (method === 'PATCH') return this.upsert(sobject, a, b, body, version, stamp);
    }
    return err(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed`);
  }

  private getById(
    sobject: string,
    id: string,
    fields: string[] | undefined,
    version: string,
  ): Answer {
    const r = this.store.get(sobject)?.get(id);
    if (!r) return err(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (r['IsDeleted'] === true) return err(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    return this.project(sobject, r, fields, version);
  }

  private getByExternalId(
    sobject: string,
    field: string,
    value: string,
    fields: string[] | undefined,
    version: string,
  ): Answer {
    const found = this.find(sobject, (r) => r[field] === value);
    if (!found.length) return err(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (found.length > 1)
      return { status: 300, body: found.map((r) => recordUrl(version, sobject, String(r['Id']))) };
    return this.project(sobject, found[0], fields, version);
  }

  private project(
    sobject: string,
    r: SfRecord,
    fields: string[] | undefined,
    version: string,
  ): Answer {
    const unknown = this.unknownFields(sobject, fields ?? []);
    if (unknown.length) return invalidField(sobject, unknown);
    const out: SfRecord = {
      attributes: { type: sobject, url: recordUrl(version, sobject, String(r['Id'])) },
    };
    for (const f of fields ?? Object.keys(r)) out[f] = r[f] === undefined ? null : r[f];
    return { status: 200, body: out };
  }

  private create(sobject: string, body: unknown, stamp: number): Answer {
    const problem = this.writeProblem(sobject, body);
    if (problem) return problem;
    const id = this.newId(sobject);
    const at = formatSfDateTime(stamp);
    const record: SfRecord = {
      ...(body as SfRecord),
      Id: id,
      CreatedDate: at,
      LastModifiedDate: at,
      SystemModstamp: at,
      IsDeleted: false,
    };
    const dup = this.duplicate(sobject, record);
    if (dup) return dup;
    this.table(sobject).set(id, record);
    return { status: 201, body: { id, success: true, errors: [] } };
  }

  private update(
    sobject: string,
    id: string,
    body: unknown,
    headers: Readonly<Record<string, string>>,
    stamp: number,
  ): Answer {
    const r = this.store.get(sobject)?.get(id);
    if (!r) return err(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (r['IsDeleted'] === true) return err(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    const since = headers['if-unmodified-since'];
    if (since !== undefined) {
      const sinceMs = Date.parse(since);
      if (!Number.isFinite(sinceMs))
        return err(400, 'INVALID_HEADER', 'If-Unmodified-Since is not a valid date');
      const modified = parseSfDateTime(r['LastModifiedDate']) ?? 0;
      // HTTP dates have whole seconds: compare at that precision (a weak validator).
      if (Math.floor(modified / 1000) * 1000 > sinceMs)
        return err(
          412,
          'PRECONDITION_FAILED',
          'The record was modified after the If-Unmodified-Since date',
        );
    }
    const problem = this.writeProblem(sobject, body);
    if (problem) return problem;
    const updated = { ...r, ...(body as SfRecord) };
    const dup = this.duplicate(sobject, updated);
    if (dup) return dup;
    const at = formatSfDateTime(stamp);
    Object.assign(r, body as SfRecord, { LastModifiedDate: at, SystemModstamp: at });
    return { status: 204 };
  }

  private upsert(
    sobject: string,
    field: string,
    value: string,
    body: unknown,
    version: string,
    stamp: number,
  ): Answer {
    const found = this.find(sobject, (r) => r[field] === value);
    if (found.length > 1)
      return { status: 300, body: found.map((r) => recordUrl(version, sobject, String(r['Id']))) };
    if (found.length === 1) return this.update(sobject, String(found[0]['Id']), body, {}, stamp);
    const created = this.create(sobject, { ...(body as SfRecord), [field]: value }, stamp);
    if (created.status !== 201) return created;
    return { status: 201, body: { ...(created.body as object), created: true } };
  }

  private delete(sobject: string, id: string, stamp: number): Answer {
    const r = this.store.get(sobject)?.get(id);
    if (!r) return err(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (r['IsDeleted'] === true) return err(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    const at = formatSfDateTime(stamp);
    Object.assign(r, { IsDeleted: true, LastModifiedDate: at, SystemModstamp: at });
    return { status: 204 };
  }

  private query(soql: string, version: string): Answer {
    let q;
    try {
      q = parseSoql(soql);
    } catch (e) {
      if (e instanceof SoqlError) return err(400, 'MALFORMED_QUERY', e.message);
      throw e;
    }
    const schema = this.options.schema;
    if (schema && !schema[q.from] && !this.store.has(q.from))
      return err(400, 'INVALID_TYPE', `sObject type '${q.from}' is not supported.`);
    const unknown = this.unknownFields(q.from, [
      ...q.fields,
      ...conditionFields(q.where),
      ...q.orderBy.map((o) => o.field),
    ]);
    if (unknown.length) return invalidField(q.from, [...new Set(unknown)]);
    const caseSensitive = (field: string) =>
      this.options.uniqueFields?.[q.from]?.includes(field) ?? false;
    let rows = this.find(q.from, (r) => (q.where ? matches(r, q.where, caseSensitive) : true));
    const isNull = (v: unknown) => v === null || v === undefined;
    rows.sort((x, y) => {
      for (const o of q.orderBy) {
        const nx = isNull(x[o.field]);
        const ny = isNull(y[o.field]);
        if (nx !== ny) return nx === o.nullsLast ? 1 : -1;
        const d = compareValues(x[o.field], y[o.field]);
        if (d !== 0) return o.desc ? -d : d;
      }
      return 0;
    });
    if (q.limit !== undefined) rows = rows.slice(0, q.limit);
    const projected = rows.map((r) => {
      const out: SfRecord = {
        attributes: { type: q.from, url: recordUrl(version, q.from, String(r['Id'])) },
      };
      for (const f of q.fields) out[f] = r[f] === undefined ? null : r[f];
      return out;
    });
    return this.batch(projected, projected.length, version);
  }

  private queryMore(locator: string, version: string): Answer {
    const rest = this.queryCursors.get(locator);
    if (!rest) return err(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    this.queryCursors.delete(locator);
    return this.batch(rest, Number(locator.split('-')[1] ?? rest.length), version);
  }

  private batch(rows: SfRecord[], totalSize: number, version: string): Answer {
    const size = this.options.queryBatchSize ?? 2000;
    if (rows.length <= size) return { status: 200, body: { totalSize, done: true, records: rows } };
    const locator = `01gFAKE${++this.idCounter}-${totalSize}`;
    this.queryCursors.set(locator, rows.slice(size));
    return {
      status: 200,
      body: {
        totalSize,
        done: false,
        nextRecordsUrl: `/services/data/v${version}/query/${locator}`,
        records: rows.slice(0, size),
      },
    };
  }

  private composite(body: unknown, version: string, forceValidation: boolean): Answer {
    const request = body as { allOrNone?: unknown; compositeRequest?: unknown };
    const subs = request?.compositeRequest;
    const valid =
      Array.isArray(subs) &&
      subs.length > 0 &&
      subs.length <= 25 &&
      subs.every(
        (s: { method?: unknown; url?: unknown; referenceId?: unknown }) =>
          typeof s?.method === 'string' &&
          typeof s.url === 'string' &&
          typeof s.referenceId === 'string',
      ) &&
      new Set(subs.map((s: { referenceId: string }) => s.referenceId)).size === subs.length;
    if (!valid) return err(400, 'JSON_PARSER_ERROR', 'invalid composite request body');
    type Sub = {
      method: string;
      url: string;
      referenceId: string;
      body?: unknown;
      httpHeaders?: Record<string, string>;
    };
    const list = subs as Sub[];
    const allOrNone = request.allOrNone === true;
    const before = this.snapshot();
    const stamp = this.tick();
    // The validation fault hits the first write to a business record (not Mandate_Action__c).
    const writes = list
      .map((s, i) => ({ i, s }))
      .filter(({ s }) => s.method.toUpperCase() !== 'GET');
    const victim = (writes.find(({ s }) => !s.url.includes('/Mandate_Action__c')) ?? writes[0])?.i;
    const responses: Array<{
      body: unknown;
      httpHeaders: Record<string, string>;
      httpStatusCode: number;
      referenceId: string;
    }> = [];
    let failed = false;
    let wrote = false;
    for (const [i, s] of list.entries()) {
      if (failed && allOrNone) {
        responses.push({
          body: PROCESSING_HALTED,
          httpHeaders: {},
          httpStatusCode: 400,
          referenceId: s.referenceId,
        });
        continue;
      }
      const u = new URL(s.url, this.baseUrl);
      const m = /^\/services\/data\/v(\d{2,3}\.0)(\/.*)$/.exec(u.pathname);
      let answer: Answer;
      if (!m || m[2] === '/composite')
        answer = err(404, 'NOT_FOUND', 'The requested resource does not exist');
      else if (forceValidation && i === victim) answer = validationError();
      else
        answer = this.dispatch(
          s.method.toUpperCase(),
          m[2],
          u.searchParams,
          s.body,
          lowerKeys(s.httpHeaders ?? {}),
          version,
          stamp,
        );
      responses.push({
        body: answer.body ?? null,
        httpHeaders: answer.headers ?? {},
        httpStatusCode: answer.status,
        referenceId: s.referenceId,
      });
      if (answer.status >= 400) failed = true;
      else if (s.method.toUpperCase() !== 'GET') wrote = true;
    }
    if (failed && allOrNone) {
      this.restore(before);
      for (const r of responses)
        if (r.httpStatusCode < 400)
          Object.assign(r, { body: PROCESSING_HALTED, httpStatusCode: 400, httpHeaders: {} });
    } else if (wrote) this.writes++;
    return { status: 200, body: { compositeResponse: responses } };
  }

  // --- helpers --------------------------------------------------------------------------------

  private tick(): number {
    if (!this.frozen) this.clock += 1000;
    return this.clock;
  }

  private table(sobject: string): Map<string, SfRecord> {
    let t = this.store.get(sobject);
    if (!t) this.store.set(sobject, (t = new Map()));
    return t;
  }

  private newId(sobject: string): string {
    const prefix =
      KEY_PREFIXES[sobject] ??
      `a0${String.fromCharCode(65 + ([...sobject].reduce((h, c) => h + c.charCodeAt(0), 0) % 26))}`;
    const n = (++this.idCounter).toString(36).toUpperCase();
    return toId18(`${prefix}5g${n.padStart(10, '0')}`);
  }

  private unknownFields(sobject: string, fields: readonly string[]): string[] {
    const known = this.options.schema?.[sobject];
    if (!known) return [];
    return fields.filter((f) => !known.includes(f) && !SYSTEM_FIELDS.has(f));
  }

  private writeProblem(sobject: string, body: unknown): Answer | undefined {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return err(400, 'JSON_PARSER_ERROR', 'expected a JSON object');
    const keys = Object.keys(body);
    const system = keys.filter((k) => SYSTEM_FIELDS.has(k));
    if (system.length)
      return err(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', 'Unable to create/update fields', system);
    const unknown = this.unknownFields(sobject, keys);
    if (unknown.length) return invalidField(sobject, unknown);
    return undefined;
  }

  private duplicate(sobject: string, record: SfRecord): Answer | undefined {
    const unique = this.options.uniqueFields?.[sobject] ?? DEFAULT_UNIQUE[sobject] ?? [];
    for (const f of unique) {
      const v = record[f];
      if (v === null || v === undefined) continue;
      const other = this.find(sobject, (r) => r[f] === v && r['Id'] !== record['Id'])[0];
      if (other)
        return err(
          400,
          'DUPLICATE_VALUE',
          `duplicate value found: ${f} duplicates value on record with id: ${String(other['Id'])}`,
          [],
        );
    }
    return undefined;
  }

  private snapshot(): Map<string, Map<string, SfRecord>> {
    return structuredClone(this.store);
  }

  private restore(snapshot: Map<string, Map<string, SfRecord>>): void {
    this.store.clear();
    for (const [k, v] of snapshot) this.store.set(k, v);
  }
}

const DEFAULT_UNIQUE: Readonly<Record<string, readonly string[]>> = {
  Mandate_Action__c: ['Idempotency_Key__c'],
  Task: ['Mandate_Idempotency_Key__c'],
};

function validationError(): Answer {
  return err(
    400,
    'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    'Validation rule failed: the record cannot be saved',
    [],
  );
}

function invalidField(sobject: string, fields: string[]): Answer {
  return err(400, 'INVALID_FIELD', `No such column '${fields[0]}' on entity '${sobject}'`, fields);
}

function recordUrl(version: string, sobject: string, id: string): string {
  return `/services/data/v${version}/sobjects/${sobject}/${id}`;
}

function lowerKeys(headers: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}
