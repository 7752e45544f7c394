import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectedFault } from '@mandate/connector-conformance';
import type { WebhookRequest } from '@mandate/connector-sdk';

/**
 * A local HubSpot for tests: a node:http server on 127.0.0.1 reproducing the documented shapes
 * of the endpoints the adapter uses (CRM v3 objects get/create/update/archive/search, v4
 * associations, the OAuth token refresh, error bodies and rate-limit headers), with fault
 * injection, unique-value properties, a count of accepted writes, direct seed/inspect/touch, and
 * the signed (v3) webhook calls HubSpot would send for the changes.
 *
 * What is HubSpot's documented behaviour and what is this fake's guess is listed in the README
 * ("Verified here vs needs a HubSpot test portal").
 */

/** A fault for the next calls: the conformance kit's, plus the rate-limit policy variants. */
export type FakeFault =
  | InjectedFault
  | {
      readonly kind: 'rate-limit';
      /** Absent: no Retry-After header (the adapter falls back to the policy). */
      readonly retryAfterSeconds?: number;
      readonly policyName?: 'SECONDLY' | 'TEN_SECONDLY_ROLLING' | 'DAILY';
    };

export interface FakeHubSpotOptions {
  readonly portalId?: string;
  readonly appId?: number;
  readonly clientId?: string;
  /** The app's client secret: OAuth refresh and webhook signatures. */
  readonly clientSecret?: string;
  readonly refreshToken?: string;
  /** Where HubSpot would POST webhooks. */
  readonly webhookUrl?: string;
  /** Access token lifetime announced by the token endpoint, seconds. */
  readonly expiresInSeconds?: number;
}

export interface FakeObject {
  readonly id: string;
  readonly properties: Record<string, string>;
}

/** One request the fake received (no headers: they carry the credentials). */
export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string[]>>;
  readonly status: number;
  /** The JSON body of CRM API requests (never the OAuth token request's). */
  readonly body?: unknown;
}

/** A webhook event as HubSpot sends it (webhooks API, CRM object subscriptions). */
export interface FakeWebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  propertyName?: string;
  propertyValue?: string;
  changeSource: string;
  changeFlag?: string;
  sourceId?: string;
}

/** An engagement associated with a record, as the harness shows it. */
export interface FakeActivity {
  readonly kind: 'task' | 'email' | 'note';
  readonly id: string;
  readonly subject?: string;
  readonly body?: string;
}

type PropType = 'string' | 'number' | 'bool' | 'enum' | 'datetime';
interface PropDef {
  readonly type: PropType;
  readonly options?: readonly string[];
  readonly readOnly?: boolean;
  readonly unique?: boolean;
}

const S: PropDef = { type: 'string' };
const N: PropDef = { type: 'number' };
const B: PropDef = { type: 'bool' };
const D: PropDef = { type: 'datetime' };
const ID: PropDef = { type: 'number', readOnly: true };
const en = (...options: string[]): PropDef => ({ type: 'enum', options });
const MANDATE_KEYS = { mandate_last_action_key: S, mandate_recent_action_keys: S };
const UNIQUE_KEY: PropDef = { type: 'string', unique: true };
const SYSTEM = {
  hs_object_id: ID,
  createdate: { ...D, readOnly: true },
  lastmodifieddate: { ...D, readOnly: true },
};

/** The properties of each object the fake knows (HubSpot defaults + the README's custom ones). */
const PROPERTIES: Readonly<Record<string, Readonly<Record<string, PropDef>>>> = {
  contacts: {
    ...SYSTEM,
    ...MANDATE_KEYS,
    firstname: S,
    lastname: S,
    email: S,
    company: S,
    jobtitle: S,
    industry: S,
    country: S,
    hs_analytics_source: { type: 'string', readOnly: true },
    hs_lead_status: en(
      'NEW',
      'OPEN',
      'IN_PROGRESS',
      'OPEN_DEAL',
      'UNQUALIFIED',
      'ATTEMPTED_TO_CONTACT',
      'CONNECTED',
      'BAD_TIMING',
    ),
    lifecyclestage: en(
      'subscriber',
      'lead',
      'marketingqualifiedlead',
      'salesqualifiedlead',
      'opportunity',
      'customer',
      'evangelist',
      'other',
    ),
    hubspot_owner_id: S,
    hs_email_optout: { type: 'bool', readOnly: true },
    mandate_lead_score: N,
    mandate_email_consent: B,
  },
  companies: {
    ...SYSTEM,
    ...MANDATE_KEYS,
    name: S,
    domain: S,
    industry: S,
    country: S,
    numberofemployees: N,
    hubspot_owner_id: S,
  },
  deals: {
    ...SYSTEM,
    ...MANDATE_KEYS,
    dealname: S,
    dealstage: en(
      'appointmentscheduled',
      'qualifiedtobuy',
      'presentationscheduled',
      'decisionmakerboughtin',
      'contractsent',
      'closedwon',
      'closedlost',
    ),
    pipeline: S,
    amount: N,
    deal_currency_code: S,
    closedate: D,
    hubspot_owner_id: S,
    mandate_discount_percent: N,
  },
  tickets: {
    ...SYSTEM,
    ...MANDATE_KEYS,
    subject: S,
    content: S,
    hs_pipeline: S,
    hs_pipeline_stage: en('1', '2', '3', '4'),
    hs_ticket_priority: en('LOW', 'MEDIUM', 'HIGH', 'URGENT'),
    hubspot_owner_id: S,
    mandate_resolution_code: S,
  },
  tasks: {
    ...SYSTEM,
    hs_timestamp: D,
    hs_task_subject: S,
    hs_task_body: S,
    hs_task_status: en('NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED'),
    hs_task_type: en('TODO', 'CALL', 'EMAIL'),
    hs_task_priority: en('LOW', 'MEDIUM', 'HIGH'),
    hubspot_owner_id: S,
    mandate_idempotency_key: UNIQUE_KEY,
  },
  emails: {
    ...SYSTEM,
    hs_timestamp: D,
    hs_email_direction: en('EMAIL', 'INCOMING_EMAIL', 'FORWARDED_EMAIL'),
    hs_email_subject: S,
    hs_email_text: S,
    hs_email_status: en('BOUNCED', 'FAILED', 'SCHEDULED', 'SENDING', 'SENT'),
    hubspot_owner_id: S,
    mandate_idempotency_key: UNIQUE_KEY,
  },
  notes: {
    ...SYSTEM,
    hs_timestamp: D,
    hs_note_body: S,
    hubspot_owner_id: S,
    mandate_idempotency_key: UNIQUE_KEY,
  },
};

/** Engagements need a timestamp at creation. */
const REQUIRED_ON_CREATE: Readonly<Record<string, readonly string[]>> = {
  tasks: ['hs_timestamp'],
  emails: ['hs_timestamp'],
  notes: ['hs_timestamp'],
};

const OBJECT_TYPE_IDS: Readonly<Record<string, string>> = {
  '0-1': 'contacts',
  '0-2': 'companies',
  '0-3': 'deals',
  '0-5': 'tickets',
  '0-27': 'tasks',
  '0-46': 'notes',
  '0-49': 'emails',
};

/** HUBSPOT_DEFINED association types: [type id, inverse type id, from object, to object]. */
const ASSOCIATION_TYPES: ReadonlyArray<readonly [number, number, string, string]> = [
  [204, 203, 'tasks', 'contacts'],
  [192, 191, 'tasks', 'companies'],
  [216, 215, 'tasks', 'deals'],
  [230, 229, 'tasks', 'tickets'],
  [198, 197, 'emails', 'contacts'],
  [186, 185, 'emails', 'companies'],
  [210, 209, 'emails', 'deals'],
  [224, 223, 'emails', 'tickets'],
  [202, 201, 'notes', 'contacts'],
  [190, 189, 'notes', 'companies'],
  [214, 213, 'notes', 'deals'],
  [228, 227, 'notes', 'tickets'],
  [279, 280, 'contacts', 'companies'],
  [1, 2, 'contacts', 'companies'],
  [341, 342, 'deals', 'companies'],
  [5, 6, 'deals', 'companies'],
];

/** Default (unlabelled) association type between two objects, for PUT .../associations/default/... */
function defaultAssociationType(from: string, to: string): number | undefined {
  return ASSOCIATION_TYPES.find(
    ([typeId, , f, t]) => f === from && t === to && ![1, 5].includes(typeId),
  )?.[0];
}

/** Search pseudo-properties that filter by an associated record's id. */
const ASSOCIATION_PSEUDO: Readonly<Record<string, string>> = {
  'associations.contact': 'contacts',
  'associations.company': 'companies',
  'associations.deal': 'deals',
  'associations.ticket': 'tickets',
};

const WEBHOOK_OBJECTS: Readonly<Record<string, string>> = {
  contacts: 'contact',
  companies: 'company',
  deals: 'deal',
  tickets: 'ticket',
};
const SUBSCRIPTION_IDS: Readonly<Record<string, number>> = {
  creation: 1,
  propertyChange: 2,
  deletion: 3,
};

interface StoredAssociation {
  readonly fromType: string;
  readonly fromId: string;
  readonly toType: string;
  readonly toId: string;
  readonly typeId: number;
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    /** Non-JSON body (a gateway's error page). */
    readonly text?: string,
  ) {}
}

function hubspotError(
  status: number,
  category: string,
  message: string,
  extra: Record<string, unknown> = {},
): HttpAnswer {
  return new HttpAnswer(status, {
    status: 'error',
    message,
    correlationId: randomUUID(),
    category,
    ...extra,
  });
}

interface PropertyProblem {
  readonly error: string;
  readonly name: string;
  readonly message: string;
}

function validationError(problems: readonly PropertyProblem[]): HttpAnswer {
  // HubSpot embeds the per-property problems as JSON in the message (and echoes values in it).
  const detail = problems.map((p) => ({
    isValid: false,
    message: p.message,
    error: p.error,
    name: p.name,
    localizedErrorMessage: p.message,
  }));
  return hubspotError(
    400,
    'VALIDATION_ERROR',
    `Property values were not valid: ${JSON.stringify(detail)}`,
  );
}

export class FakeHubSpot {
  readonly portalId: string;
  readonly appId: number;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookUrl: string;
  /** Every request received, oldest first. */
  readonly requests: FakeRequest[] = [];
  /** Mutating requests (create, update, archive, associate) answered 2xx. */
  writeCount = 0;
  /** Successful OAuth refreshes. */
  refreshCount = 0;
  /** Refresh attempts (successful or not). */
  refreshAttempts = 0;

  private readonly objects = new Map<string, Map<string, FakeObject>>();
  private readonly associations: StoredAssociation[] = [];
  private readonly tokens = new Map<string, { expired: boolean }>();
  private refreshToken: string;
  private failNextRefresh = false;
  private readonly faults: Array<{ fault: FakeFault; remaining: number }> = [];
  private serverErrors = 0;
  private nextId = 1001;
  private nextEventId = 7_000_001;
  private lastOccurredAt = 0;
  private tokenCounter = 0;
  private pendingEvents: FakeWebhookEvent[] = [];
  private readonly expiresIn: number;

  private constructor(
    private readonly server: Server,
    readonly basePath: string,
    options: FakeHubSpotOptions,
  ) {
    this.portalId = options.portalId ?? '4407001';
    this.appId = options.appId ?? 880011;
    this.clientId = options.clientId ?? 'fake-client-id';
    this.clientSecret = options.clientSecret ?? `fake-client-secret-${randomUUID()}`;
    this.refreshToken = options.refreshToken ?? `fake-refresh-${randomUUID()}`;
    this.webhookUrl =
      options.webhookUrl ?? 'https://mandate.example.com/v1/tenants/acme/connectors/webhook';
    this.expiresIn = options.expiresInSeconds ?? 1800;
    for (const type of Object.keys(PROPERTIES)) this.objects.set(type, new Map());
  }

  /** Starts a fake on 127.0.0.1 and a free port. */
  static async start(options: FakeHubSpotOptions = {}): Promise<FakeHubSpot> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const fake = new FakeHubSpot(server, `http://127.0.0.1:${port}`, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`fake HubSpot failed: ${String(err)}`);
      });
    });
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((err) => (err ? reject(err) : resolve())),
    );
  }

  // --- credentials ---------------------------------------------------------------------------

  /** A valid access token (as after an OAuth install or a private app's token). */
  issueAccessToken(): string {
    this.tokenCounter += 1;
    const token = `fake-access-${this.tokenCounter}-${randomUUID()}`;
    this.tokens.set(token, { expired: false });
    return token;
  }

  /** The refresh token the fake accepts. */
  get currentRefreshToken(): string {
    return this.refreshToken;
  }

  /** Every access token issued so far expires: calls get 401 EXPIRED_AUTHENTICATION. */
  expireAccessTokens(): void {
    for (const t of this.tokens.values()) t.expired = true;
  }

  /** The refresh token stops working (the app was uninstalled). */
  revokeRefreshToken(): void {
    this.refreshToken = `revoked-${randomUUID()}`;
  }

  // --- faults --------------------------------------------------------------------------------

  /**
   * The next `times` API calls fail with the fault. `validation` applies to writes only (a read
   * passes and does not use it up); `auth-expired` also makes the refresh that follows fail.
   */
  injectFault(fault: FakeFault, times = 1): void {
    this.faults.push({ fault, remaining: times });
  }

  private takeFault(mutating: boolean): FakeFault | undefined {
    const head = this.faults[0];
    if (!head) return undefined;
    if (head.fault.kind === 'validation' && !mutating) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.faults.shift();
    return head.fault;
  }

  private faultAnswer(fault: FakeFault): HttpAnswer {
    switch (fault.kind) {
      case 'rate-limit': {
        const policy = 'policyName' in fault && fault.policyName ? fault.policyName : 'SECONDLY';
        const headers: Record<string, string> = {
          'X-HubSpot-RateLimit-Interval-Milliseconds': '10000',
          'X-HubSpot-RateLimit-Max': '110',
          'X-HubSpot-RateLimit-Remaining': '0',
        };
        if (fault.retryAfterSeconds !== undefined)
          headers['Retry-After'] = String(fault.retryAfterSeconds);
        return new HttpAnswer(
          429,
          {
            status: 'error',
            message: `You have reached your ${policy.toLowerCase()} limit.`,
            errorType: 'RATE_LIMIT',
            correlationId: randomUUID(),
            policyName: policy,
            requestId: randomUUID(),
          },
          headers,
        );
      }
      case 'server-error':
        // Alternates: a 503 with HubSpot's JSON error body, a 502 from the edge (HTML).
        this.serverErrors += 1;
        return this.serverErrors % 2 === 1
          ? hubspotError(503, 'SERVICE_UNAVAILABLE', 'Service temporarily unavailable')
          : new HttpAnswer(502, undefined, { 'Content-Type': 'text/html' }, '<html>502</html>');
      case 'auth-expired':
        this.failNextRefresh = true;
        return hubspotError(
          401,
          'EXPIRED_AUTHENTICATION',
          'The OAuth token used to make this call expired 0 second(s) ago.',
        );
      case 'validation':
        return validationError([
          {
            error: 'INVALID_OPTION',
            name: 'hs_lead_status',
            message: 'injected-value was not one of the allowed options',
          },
        ]);
    }
  }

  // --- direct access (as a user in the HubSpot UI, or an admin) ---------------------------------

  /** Creates an object directly (no write counted); returns its id. Emits webhook events. */
  seed(objectType: string, properties: Readonly<Record<string, string>>): string {
    return this.createStored(this.type(objectType), { ...properties }, 'CRM_UI').id;
  }

  /** The object as stored, or undefined. */
  get(objectType: string, id: string): FakeObject | undefined {
    const o = this.objects.get(this.type(objectType))?.get(id);
    return o ? { id: o.id, properties: { ...o.properties } } : undefined;
  }

  /** Every object of a type. */
  list(objectType: string): FakeObject[] {
    return [...(this.objects.get(this.type(objectType))?.values() ?? [])].map((o) => ({
      id: o.id,
      properties: { ...o.properties },
    }));
  }

  /** Changes an object directly, as a user would (no validation, no write counted). */
  touch(objectType: string, id: string, properties: Readonly<Record<string, string>>): void {
    const type = this.type(objectType);
    const o = this.objects.get(type)?.get(id);
    if (!o) throw new Error(`fake HubSpot: no ${type} ${id}`);
    this.applyUpdate(type, o, properties, 'CRM_UI');
  }

  /** Associates two objects directly (default association type unless given). */
  associate(fromType: string, fromId: string, toType: string, toId: string, typeId?: number): void {
    const from = this.type(fromType);
    const to = this.type(toType);
    const t = typeId ?? defaultAssociationType(from, to);
    if (t === undefined) throw new Error(`fake HubSpot: no association type ${from} → ${to}`);
    this.associations.push({ fromType: from, fromId, toType: to, toId, typeId: t });
  }

  /** Ids of the `toType` objects associated with an object (either direction). */
  associated(fromType: string, fromId: string, toType: string): string[] {
    return [
      ...new Set(this.linksOf(this.type(fromType), fromId, this.type(toType)).map((l) => l.toId)),
    ];
  }

  /** Tasks, emails and notes associated with a record. */
  activities(objectType: string, id: string): FakeActivity[] {
    const type = this.type(objectType);
    const out: FakeActivity[] = [];
    for (const [engagement, kind, subject, body] of [
      ['tasks', 'task', 'hs_task_subject', 'hs_task_body'],
      ['emails', 'email', 'hs_email_subject', 'hs_email_text'],
      ['notes', 'note', undefined, 'hs_note_body'],
    ] as const) {
      for (const link of this.linksOf(type, id, engagement)) {
        const e = this.objects.get(engagement)?.get(link.toId);
        if (!e) continue;
        out.push({
          kind,
          id: e.id,
          ...(subject && e.properties[subject] ? { subject: e.properties[subject] } : {}),
          ...(e.properties[body] ? { body: e.properties[body] } : {}),
        });
      }
    }
    return out.sort((a, b) => Number(a.id) - Number(b.id));
  }

  // --- webhooks --------------------------------------------------------------------------------

  /** The events not yet delivered. */
  get pendingWebhookEvents(): readonly FakeWebhookEvent[] {
    return this.pendingEvents;
  }

  /**
   * The webhook calls HubSpot would make for the changes since the last call: batches of up to
   * 100 events, signed with the app's client secret (signature v3).
   */
  takeWebhooks(): WebhookRequest[] {
    const events = this.pendingEvents;
    this.pendingEvents = [];
    const calls: WebhookRequest[] = [];
    for (let i = 0; i < events.length; i += 100)
      calls.push(this.signedWebhook(events.slice(i, i + 100)));
    return calls;
  }

  /** A webhook call for these events, signed as HubSpot signs it (options to forge variants). */
  signedWebhook(
    events: readonly FakeWebhookEvent[],
    options: { timestamp?: number; url?: string; secret?: string; receivedAt?: Date } = {},
  ): WebhookRequest {
    const url = options.url ?? this.webhookUrl;
    const body = JSON.stringify(events);
    const timestamp = String(options.timestamp ?? Date.now());
    const secret = options.secret ?? this.clientSecret;
    // Independent of the adapter's implementation: the documented recipe, literally.
    const signature = createHmac('sha256', secret)
      .update(`POST${url}${body}${timestamp}`, 'utf8')
      .digest('base64');
    return {
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': signature,
        'x-hubspot-request-timestamp': timestamp,
        'x-hubspot-signature-version': 'v1',
        'x-hubspot-signature': createHash('sha256')
          .update(secret + body)
          .digest('hex'),
      },
      rawBody: Buffer.from(body, 'utf8'),
      receivedAt: options.receivedAt ?? new Date(),
    };
  }

  /** HubSpot's retry of a call: the same events with `attemptNumber` + 1, signed anew. */
  redeliver(call: WebhookRequest): WebhookRequest {
    const events = JSON.parse(call.rawBody.toString('utf8')) as FakeWebhookEvent[];
    return this.signedWebhook(events.map((e) => ({ ...e, attemptNumber: e.attemptNumber + 1 })));
  }

  private emit(
    type: string,
    id: string,
    action: 'creation' | 'propertyChange' | 'deletion',
    source: string,
    property?: { name: string; value: string },
  ): void {
    const object = WEBHOOK_OBJECTS[type];
    if (!object) return; // HubSpot's CRM object subscriptions cover these four objects
    const occurredAt = Math.max(Date.now(), this.lastOccurredAt);
    this.lastOccurredAt = occurredAt;
    this.pendingEvents.push({
      eventId: this.nextEventId++,
      subscriptionId:
        (Object.keys(WEBHOOK_OBJECTS).indexOf(type) + 1) * 100 + SUBSCRIPTION_IDS[action],
      portalId: Number(this.portalId),
      appId: this.appId,
      occurredAt,
      subscriptionType: `${object}.${action}`,
      attemptNumber: 0,
      objectId: Number(id),
      ...(property ? { propertyName: property.name, propertyValue: property.value } : {}),
      changeSource: source,
      ...(action === 'creation' ? { changeFlag: 'CREATED' } : {}),
      sourceId: source === 'INTEGRATION' ? String(this.appId) : 'userId:1001',
    });
  }

  // --- storage -------------------------------------------------------------------------------

  private type(objectType: string): string {
    const type = OBJECT_TYPE_IDS[objectType] ?? objectType;
    if (!PROPERTIES[type]) throw new Error(`fake HubSpot: unknown object type ${objectType}`);
    return type;
  }

  private createStored(
    type: string,
    properties: Record<string, string>,
    source: string,
  ): FakeObject {
    const id = String(this.nextId++);
    const now = new Date().toISOString();
    const o: FakeObject = {
      id,
      properties: { ...properties, hs_object_id: id, createdate: now, lastmodifieddate: now },
    };
    this.objects.get(type)!.set(id, o);
    this.emit(type, id, 'creation', source);
    for (const [name, value] of Object.entries(properties))
      if (value !== '') this.emit(type, id, 'propertyChange', source, { name, value });
    return o;
  }

  private applyUpdate(
    type: string,
    o: FakeObject,
    properties: Readonly<Record<string, string>>,
    source: string,
  ): void {
    for (const [name, value] of Object.entries(properties)) {
      if ((o.properties[name] ?? '') === value) continue;
      o.properties[name] = value;
      this.emit(type, o.id, 'propertyChange', source, { name, value });
    }
    o.properties['lastmodifieddate'] = new Date().toISOString();
  }

  private linksOf(
    type: string,
    id: string,
    toType: string,
  ): Array<{ toId: string; typeId: number }> {
    const out: Array<{ toId: string; typeId: number }> = [];
    for (const a of this.associations) {
      if (a.fromType === type && a.fromId === id && a.toType === toType)
        out.push({ toId: a.toId, typeId: a.typeId });
      else if (a.toType === type && a.toId === id && a.fromType === toType) {
        const inverse = ASSOCIATION_TYPES.find(([t]) => t === a.typeId)?.[1] ?? a.typeId;
        out.push({ toId: a.fromId, typeId: inverse });
      }
    }
    return out;
  }

  private validate(
    type: string,
    properties: Readonly<Record<string, unknown>>,
    creating: boolean,
  ): PropertyProblem[] {
    const defs = PROPERTIES[type]!;
    const problems: PropertyProblem[] = [];
    for (const [name, raw] of Object.entries(properties)) {
      const def = defs[name];
      const value = raw === null || raw === undefined ? '' : String(raw);
      if (!def) {
        problems.push({
          error: 'PROPERTY_DOESNT_EXIST',
          name,
          message: `Property "${name}" does not exist`,
        });
        continue;
      }
      if (def.readOnly) {
        problems.push({
          error: 'READ_ONLY_VALUE',
          name,
          message: `"${name}" is a read only property; its value cannot be set.`,
        });
        continue;
      }
      if (value === '') continue;
      if (def.type === 'enum' && !def.options!.includes(value))
        problems.push({
          error: 'INVALID_OPTION',
          name,
          message: `${value} was not one of the allowed options: [${def.options!.join(', ')}]`,
        });
      if (def.type === 'number' && !Number.isFinite(Number(value)))
        problems.push({ error: 'INVALID_FLOAT', name, message: `${value} is not a valid number` });
      if (def.type === 'bool' && value !== 'true' && value !== 'false')
        problems.push({
          error: 'INVALID_BOOLEAN',
          name,
          message: `${value} is not a valid boolean`,
        });
      if (def.type === 'datetime' && !/^\d+$/.test(value) && Number.isNaN(Date.parse(value)))
        problems.push({ error: 'INVALID_DATE', name, message: `${value} is not a valid date` });
    }
    if (creating)
      for (const name of REQUIRED_ON_CREATE[type] ?? [])
        if (!properties[name])
          problems.push({
            error: 'REQUIRED_PROPERTY',
            name,
            message: `Property "${name}" is required`,
          });
    return problems;
  }

  /** A unique-value property already held by another object → its id. */
  private uniqueClash(
    type: string,
    properties: Readonly<Record<string, string>>,
    selfId?: string,
  ): { name: string; id: string } | undefined {
    for (const [name, value] of Object.entries(properties)) {
      if (!PROPERTIES[type]![name]?.unique || !value) continue;
      for (const o of this.objects.get(type)!.values())
        if (o.id !== selfId && o.properties[name] === value) return { name, id: o.id };
    }
    return undefined;
  }

  // --- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    let answer: HttpAnswer;
    try {
      answer = this.route(method, url, raw, req.headers['authorization']);
    } catch (err) {
      answer = hubspotError(500, 'INTERNAL_ERROR', `fake HubSpot failed: ${String(err)}`);
    }
    const query: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
    const sent = url.pathname.startsWith('/crm/') && raw ? parseJsonOrUndefined(raw) : undefined;
    this.requests.push({
      method,
      path: url.pathname,
      query,
      status: answer.status,
      ...(sent === undefined ? {} : { body: sent }),
    });
    const body = answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
    res.writeHead(answer.status, {
      'Content-Type': 'application/json;charset=utf-8',
      'X-HubSpot-Correlation-Id': randomUUID(),
      ...answer.headers,
    });
    res.end(body);
  }

  private route(method: string, url: URL, raw: string, authorization?: string): HttpAnswer {
    const path = url.pathname;
    if (path === '/oauth/v1/token' && method === 'POST') return this.token(raw);
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const isV3 = parts[0] === 'crm' && parts[1] === 'v3' && parts[2] === 'objects';
    const isV4 = parts[0] === 'crm' && parts[1] === 'v4' && parts[2] === 'objects';
    // /crm/v4/associations/{type}/{toType}/batch/read: a read, though a POST.
    const isBatchRead =
      method === 'POST' &&
      parts[0] === 'crm' &&
      parts[1] === 'v4' &&
      parts[2] === 'associations' &&
      parts[5] === 'batch' &&
      parts[6] === 'read' &&
      parts.length === 7;
    if (!isV3 && !isV4 && !isBatchRead)
      return hubspotError(404, 'OBJECT_NOT_FOUND', 'Resource not found');
    const mutating =
      method === 'PATCH' ||
      method === 'DELETE' ||
      method === 'PUT' ||
      (method === 'POST' && parts[4] !== 'search' && !isBatchRead);
    const fault = this.takeFault(mutating);
    if (fault) return this.faultAnswer(fault);
    const denied = this.authenticate(authorization);
    if (denied) return denied;
    this.failNextRefresh = false;
    const type = OBJECT_TYPE_IDS[parts[3] ?? ''] ?? parts[3] ?? '';
    if (!PROPERTIES[type])
      return hubspotError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${type}`);
    const body = raw ? (parseJsonOrUndefined(raw) as Record<string, unknown> | undefined) : {};
    if (body === undefined) return hubspotError(400, 'VALIDATION_ERROR', 'Invalid input JSON');
    if (isBatchRead) {
      const toType = OBJECT_TYPE_IDS[parts[4] ?? ''] ?? parts[4] ?? '';
      if (!PROPERTIES[toType])
        return hubspotError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${toType}`);
      return this.batchAssociations(type, toType, body);
    }
    const answer = isV3 ? this.v3(method, type, parts, url, body) : this.v4(method, type, parts);
    if (mutating && answer.status >= 200 && answer.status < 300) this.writeCount += 1;
    return answer;
  }

  private authenticate(authorization: string | undefined): HttpAnswer | undefined {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const state = token ? this.tokens.get(token) : undefined;
    if (!state)
      return hubspotError(
        401,
        'INVALID_AUTHENTICATION',
        'Authentication credentials not found. This API supports OAuth 2.0 authentication.',
      );
    if (state.expired)
      return hubspotError(
        401,
        'EXPIRED_AUTHENTICATION',
        'The OAuth token used to make this call expired 1 minute(s) ago.',
      );
    return undefined;
  }

  private token(raw: string): HttpAnswer {
    this.refreshAttempts += 1;
    const form = new URLSearchParams(raw);
    const fail = (status: string, message: string) =>
      new HttpAnswer(400, { status, message, correlationId: randomUUID() });
    if (this.failNextRefresh) {
      this.failNextRefresh = false;
      return fail('BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
    }
    if (form.get('grant_type') !== 'refresh_token')
      return fail('BAD_GRANT_TYPE', 'unsupported grant_type');
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret)
      return fail('BAD_CLIENT_ID', 'missing or unknown client id');
    if (form.get('refresh_token') !== this.refreshToken)
      return fail('BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
    this.refreshCount += 1;
    return new HttpAnswer(200, {
      token_type: 'bearer',
      refresh_token: this.refreshToken,
      access_token: this.issueAccessToken(),
      expires_in: this.expiresIn,
    });
  }

  private v3(
    method: string,
    type: string,
    parts: string[],
    url: URL,
    body: Record<string, unknown>,
  ): HttpAnswer {
    const id = parts[4];
    const store = this.objects.get(type)!;
    if (method === 'POST' && id === 'search') return this.search(type, body);
    if (method === 'POST' && id === undefined) return this.create(type, body);
    if (id === undefined) return hubspotError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
    const o = store.get(id);
    if (!o)
      return hubspotError(
        404,
        'OBJECT_NOT_FOUND',
        'Object not found.  objectId are usually numeric.',
      );
    if (method === 'GET') {
      const wanted = url.searchParams
        .getAll('properties')
        .flatMap((p) => p.split(','))
        .filter(Boolean);
      return new HttpAnswer(200, this.present(type, o, wanted));
    }
    if (method === 'PATCH') {
      const properties = (body['properties'] ?? {}) as Record<string, unknown>;
      const problems = this.validate(type, properties, false);
      if (problems.length) return validationError(problems);
      const values = stringValues(properties);
      const clash = this.uniqueClash(type, values, o.id);
      if (clash)
        return hubspotError(
          409,
          'CONFLICT',
          `A ${type} object with the unique value of ${clash.name} already exists. Existing ID: ${clash.id}`,
        );
      this.applyUpdate(type, o, values, 'INTEGRATION');
      return new HttpAnswer(200, this.present(type, o, Object.keys(values)));
    }
    if (method === 'DELETE') {
      store.delete(id);
      this.emit(type, id, 'deletion', 'INTEGRATION');
      return new HttpAnswer(204, undefined);
    }
    return hubspotError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
  }

  private create(type: string, body: Record<string, unknown>): HttpAnswer {
    const properties = (body['properties'] ?? {}) as Record<string, unknown>;
    const problems = this.validate(type, properties, true);
    if (problems.length) return validationError(problems);
    const values = stringValues(properties);
    const clash = this.uniqueClash(type, values);
    if (clash)
      return hubspotError(
        409,
        'CONFLICT',
        `A ${type} object with the unique value of ${clash.name} already exists. Existing ID: ${clash.id}`,
      );
    const links: StoredAssociation[] = [];
    for (const a of (body['associations'] ?? []) as Array<Record<string, unknown>>) {
      const toId = String((a['to'] as { id?: unknown } | undefined)?.id ?? '');
      for (const t of (a['types'] ?? []) as Array<Record<string, unknown>>) {
        const known = ASSOCIATION_TYPES.find(([typeId]) => typeId === t['associationTypeId']);
        if (!known || known[2] !== type || t['associationCategory'] !== 'HUBSPOT_DEFINED')
          return hubspotError(
            400,
            'VALIDATION_ERROR',
            `invalid association type ${String(t['associationTypeId'])} for ${type}`,
          );
        if (!this.objects.get(known[3])!.has(toId))
          return hubspotError(400, 'VALIDATION_ERROR', `${known[3]} ${toId} does not exist`);
        links.push({ fromType: type, fromId: '', toType: known[3], toId, typeId: known[0] });
      }
    }
    const o = this.createStored(type, values, 'INTEGRATION');
    for (const l of links) this.associations.push({ ...l, fromId: o.id });
    return new HttpAnswer(201, this.present(type, o, Object.keys(values)));
  }

  /**
   * POST /crm/v3/objects/{type}/search. Documented: filterGroups (ORed) of filters (ANDed), at
   * most 5 groups of 6 filters; `associations.{object}` pseudo-properties; sorts; limit ≤ 200;
   * `after` paging; at most 10,000 results reachable. Assumed (README, "needs a HubSpot test
   * portal"): EQ compares text case-insensitively and numbers numerically; one sort per search;
   * objects without the sort property come first ascending and last descending; ties by id.
   */
  private search(type: string, body: Record<string, unknown>): HttpAnswer {
    const groups = (body['filterGroups'] ?? []) as Array<{
      filters?: Array<Record<string, unknown>>;
    }>;
    const sorts = (body['sorts'] ?? []) as Array<Record<string, unknown>>;
    const limit = typeof body['limit'] === 'number' ? body['limit'] : 10;
    const after = body['after'] === undefined ? 0 : Number(body['after']);
    if (groups.length > 5 || groups.some((g) => (g.filters ?? []).length > 6))
      return hubspotError(400, 'VALIDATION_ERROR', 'at most 5 filter groups of 6 filters');
    if (sorts.length > 1) return hubspotError(400, 'VALIDATION_ERROR', 'at most one sort');
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      return hubspotError(400, 'VALIDATION_ERROR', 'limit must be within 1..200');
    if (!Number.isInteger(after) || after < 0 || after + limit > 10_000)
      return hubspotError(400, 'VALIDATION_ERROR', 'at most 10,000 results can be paged through');
    const defs = PROPERTIES[type]!;
    for (const g of groups)
      for (const f of g.filters ?? []) {
        const name = String(f['propertyName']);
        if (!['EQ', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY'].includes(String(f['operator'])))
          return hubspotError(
            400,
            'VALIDATION_ERROR',
            'the fake supports EQ and (NOT_)HAS_PROPERTY',
          );
        if (!defs[name] && !ASSOCIATION_PSEUDO[name])
          return hubspotError(400, 'VALIDATION_ERROR', `unknown property ${name}`);
      }
    const holds = (o: FakeObject, f: Record<string, unknown>): boolean => {
      const name = String(f['propertyName']);
      const pseudo = ASSOCIATION_PSEUDO[name];
      if (pseudo)
        return this.linksOf(type, o.id, pseudo).some((l) => l.toId === String(f['value']));
      const stored = o.properties[name] ?? '';
      if (f['operator'] === 'HAS_PROPERTY') return stored !== '';
      if (f['operator'] === 'NOT_HAS_PROPERTY') return stored === '';
      const wanted = String(f['value']);
      if (stored === '') return false;
      if (defs[name]!.type === 'number') return Number(stored) === Number(wanted);
      return stored.toLowerCase() === wanted.toLowerCase();
    };
    const matches = [...this.objects.get(type)!.values()].filter(
      (o) => groups.length === 0 || groups.some((g) => (g.filters ?? []).every((f) => holds(o, f))),
    );
    const sort = sorts[0];
    const byId = (a: FakeObject, b: FakeObject) => Number(a.id) - Number(b.id);
    if (sort) {
      const name = String(sort['propertyName']);
      if (!defs[name]) return hubspotError(400, 'VALIDATION_ERROR', `unknown property ${name}`);
      const sign = sort['direction'] === 'DESCENDING' ? -1 : 1;
      const numeric = defs[name]!.type === 'number' || name === 'hs_object_id';
      matches.sort((a, b) => {
        const va = a.properties[name] ?? '';
        const vb = b.properties[name] ?? '';
        if (va === '' || vb === '') return va === vb ? byId(a, b) : sign * (va === '' ? -1 : 1);
        const d = numeric ? Number(va) - Number(vb) : va < vb ? -1 : va > vb ? 1 : 0;
        return d === 0 ? byId(a, b) : sign * d;
      });
    } else matches.sort(byId);
    const wanted = (body['properties'] ?? []) as string[];
    const page = matches.slice(after, after + limit);
    return new HttpAnswer(200, {
      total: matches.length,
      results: page.map((o) => this.present(type, o, wanted)),
      ...(after + limit < matches.length
        ? { paging: { next: { after: String(after + limit) } } }
        : {}),
    });
  }

  /**
   * POST /crm/v4/associations/{type}/{toType}/batch/read `{inputs: [{id}]}` →
   * `{status, results: [{from: {id}, to: [{toObjectId, associationTypes}]}]}`. Assumed: objects
   * without associations are left out of `results`.
   */
  private batchAssociations(
    type: string,
    toType: string,
    body: Record<string, unknown>,
  ): HttpAnswer {
    const inputs = (body['inputs'] ?? []) as Array<{ id?: unknown }>;
    if (inputs.length > 1000)
      return hubspotError(400, 'VALIDATION_ERROR', 'at most 1000 inputs per batch');
    const results = [];
    for (const input of inputs) {
      const id = String(input.id ?? '');
      const byId = new Map<string, number[]>();
      for (const l of this.linksOf(type, id, toType))
        byId.set(l.toId, [...(byId.get(l.toId) ?? []), l.typeId]);
      if (byId.size)
        results.push({
          from: { id },
          to: [...byId.entries()].map(([toId, typeIds]) => ({
            toObjectId: Number(toId),
            associationTypes: typeIds.map((typeId) => ({
              category: 'HUBSPOT_DEFINED',
              typeId,
              label: null,
            })),
          })),
        });
    }
    const now = new Date().toISOString();
    return new HttpAnswer(200, { status: 'COMPLETE', results, startedAt: now, completedAt: now });
  }

  private v4(method: string, type: string, parts: string[]): HttpAnswer {
    // /crm/v4/objects/{type}/{id}/associations/{toType}[/{toId}] and .../associations/default/{toType}/{toId}
    const [, , , , id, seg, a, b, c] = parts;
    if (seg !== 'associations' || !id)
      return hubspotError(404, 'OBJECT_NOT_FOUND', 'Resource not found');
    if (!this.objects.get(type)!.has(id))
      return hubspotError(404, 'OBJECT_NOT_FOUND', 'Object not found');
    if (method === 'GET' && a && !b) {
      const toType = OBJECT_TYPE_IDS[a] ?? a;
      const byId = new Map<string, number[]>();
      for (const l of this.linksOf(type, id, toType))
        byId.set(l.toId, [...(byId.get(l.toId) ?? []), l.typeId]);
      return new HttpAnswer(200, {
        results: [...byId.entries()].map(([toId, typeIds]) => ({
          toObjectId: Number(toId),
          associationTypes: typeIds.map((typeId) => ({
            category: 'HUBSPOT_DEFINED',
            typeId,
            label: null,
          })),
        })),
      });
    }
    if (method === 'PUT' && a === 'default' && b && c) {
      const toType = OBJECT_TYPE_IDS[b] ?? b;
      const typeId = defaultAssociationType(type, toType);
      if (typeId === undefined || !this.objects.get(toType)?.has(c))
        return hubspotError(
          400,
          'VALIDATION_ERROR',
          `cannot associate ${type} with ${toType} ${c}`,
        );
      if (!this.linksOf(type, id, toType).some((l) => l.toId === c))
        this.associations.push({ fromType: type, fromId: id, toType, toId: c, typeId });
      return new HttpAnswer(200, {
        status: 'COMPLETE',
        results: [
          {
            from: { id },
            to: { id: c },
            associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId },
          },
        ],
        startedAt: new Date().toISOString(),
        completedAt: new Date().toISOString(),
      });
    }
    if (method === 'DELETE' && a && b) {
      const toType = OBJECT_TYPE_IDS[a] ?? a;
      for (let i = this.associations.length - 1; i >= 0; i--) {
        const l = this.associations[i]!;
        const forward =
          l.fromType === type && l.fromId === id && l.toType === toType && l.toId === b;
        const backward =
          l.toType === type && l.toId === id && l.fromType === toType && l.fromId === b;
        if (forward || backward) this.associations.splice(i, 1);
      }
      return new HttpAnswer(204, undefined);
    }
    return hubspotError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
  }

  /** An object as the API returns it: the asked properties (null when unset) + system ones. */
  private present(type: string, o: FakeObject, wanted: readonly string[]) {
    const defs = PROPERTIES[type]!;
    const names = wanted.length
      ? wanted.filter((n) => defs[n])
      : Object.keys(o.properties).filter((n) => defs[n]);
    const properties: Record<string, string | null> = {};
    for (const n of [...names, 'hs_object_id', 'createdate', 'lastmodifieddate'])
      properties[n] = o.properties[n] ?? null;
    return {
      id: o.id,
      properties,
      createdAt: o.properties['createdate'],
      updatedAt: o.properties['lastmodifieddate'],
      archived: false,
    };
  }
}

function stringValues(properties: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(properties))
    out[k] = v === null || v === undefined ? '' : String(v);
  return out;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}
