import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ConnectorError, type ChangeRecord, type WebhookRequest } from '@mandate/connector-sdk';
import { apiObjectName, webhookObjectName, type HubSpotSchema } from './hubspot.mapping';

// HubSpot request validation, signature v3:
// https://developers.hubspot.com/docs/api/webhooks/validating-requests
// https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
// https://developers.hubspot.com/changelog/introducing-version-3-of-webhook-signatures
//   1. reject the request if X-HubSpot-Request-Timestamp (ms since the epoch) is older than 5 min;
//   2. source = requestMethod + requestUri + requestBody + timestamp, UTF-8;
//   3. HMAC SHA-256 of the source keyed with the app's client secret, base64-encoded;
//   4. compare with X-HubSpot-Signature-v3 (in constant time).
// The requestUri is the full URL HubSpot called, with the URL-encoded characters of HubSpot's
// table decoded (the `?` starting the query string is never encoded): see `signedUri`.
export const SIGNATURE_V3_HEADER = 'x-hubspot-signature-v3';
export const REQUEST_TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';
export const DEFAULT_WEBHOOK_MAX_AGE_MS = 5 * 60_000;

/** The encodings HubSpot's validation guide says to decode in the request URI before signing. */
const DECODED_IN_URI: ReadonlyArray<[RegExp, string]> = [
  [/%3A/gi, ':'],
  [/%2F/gi, '/'],
  [/%3F/gi, '?'],
  [/%40/gi, '@'],
  [/%21/gi, '!'],
  [/%24/gi, '$'],
  [/%27/gi, "'"],
  [/%28/gi, '('],
  [/%29/gi, ')'],
  [/%2A/gi, '*'],
  [/%2C/gi, ','],
  [/%3B/gi, ';'],
];

/** The request URI as HubSpot signs it. */
export function signedUri(url: string): string {
  let out = url;
  for (const [encoded, char] of DECODED_IN_URI) out = out.replace(encoded, char);
  return out;
}

/** base64(HMAC-SHA256(secret, method + uri + body + timestamp)). */
export function hubspotSignatureV3(
  secret: string,
  method: string,
  url: string,
  rawBody: Buffer | string,
  timestamp: string,
): string {
  return createHmac('sha256', secret)
    .update(Buffer.from(method.toUpperCase() + signedUri(url), 'utf8'))
    .update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody)
    .update(Buffer.from(timestamp, 'utf8'))
    .digest('base64');
}

function invalid(why: string): ConnectorError {
  return ConnectorError.permanent('WEBHOOK_SIGNATURE_INVALID', `HubSpot webhook refused: ${why}`);
}

/**
 * Authenticates a webhook call (signature v3 and its timestamp, checked against when the call
 * was received); throws a permanent WEBHOOK_SIGNATURE_INVALID error otherwise.
 */
export function verifyHubSpotSignature(
  request: WebhookRequest,
  secret: string,
  maxAgeMs: number = DEFAULT_WEBHOOK_MAX_AGE_MS,
): void {
  const signature = request.headers[SIGNATURE_V3_HEADER];
  const timestamp = request.headers[REQUEST_TIMESTAMP_HEADER];
  if (!signature) throw invalid(`no ${SIGNATURE_V3_HEADER} header`);
  if (!timestamp || !/^\d{1,16}$/.test(timestamp))
    throw invalid(`no valid ${REQUEST_TIMESTAMP_HEADER} header`);
  const age = request.receivedAt.getTime() - Number(timestamp);
  if (age > maxAgeMs) throw invalid('the request timestamp is older than allowed');
  if (age < -maxAgeMs) throw invalid('the request timestamp is in the future');
  const expected = Buffer.from(
    hubspotSignatureV3(secret, request.method, request.url, request.rawBody, timestamp),
    'utf8',
  );
  const given = Buffer.from(signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    throw invalid('the signature does not match');
}

/** One event of a HubSpot webhook call (webhooks API, CRM object subscriptions). */
export interface HubSpotWebhookEvent {
  readonly eventId: number;
  readonly subscriptionId: number;
  readonly portalId: number;
  readonly appId: number;
  /** Milliseconds since the epoch. */
  readonly occurredAt: number;
  /** e.g. `contact.creation`, `deal.propertyChange`, `ticket.deletion`, `object.propertyChange`. */
  readonly subscriptionType: string;
  /** 0 for the first delivery; HubSpot retries failed deliveries with the same event. */
  readonly attemptNumber: number;
  readonly objectId: number;
  /** Generic `object.*` subscriptions: the object type id, e.g. "0-1". */
  readonly objectTypeId?: string;
  readonly propertyName?: string;
  readonly propertyValue?: string;
  readonly changeSource?: string;
}

const REQUIRED_NUMBERS = ['eventId', 'portalId', 'occurredAt', 'objectId'] as const;

/** Parses a webhook body: a JSON array of events. Throws permanent WEBHOOK_PAYLOAD_INVALID. */
export function parseHubSpotEvents(rawBody: Buffer): HubSpotWebhookEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch (err) {
    throw ConnectorError.permanent('WEBHOOK_PAYLOAD_INVALID', 'HubSpot webhook body is not JSON', {
      cause: err,
    });
  }
  if (!Array.isArray(parsed))
    throw ConnectorError.permanent(
      'WEBHOOK_PAYLOAD_INVALID',
      'HubSpot webhook body is not an array of events',
    );
  return parsed.map((e: unknown, i) => {
    const ev = e as Record<string, unknown>;
    if (typeof ev !== 'object' || ev === null)
      throw ConnectorError.permanent('WEBHOOK_PAYLOAD_INVALID', `event ${i} is not an object`);
    for (const k of REQUIRED_NUMBERS)
      if (typeof ev[k] !== 'number' || !Number.isFinite(ev[k]))
        throw ConnectorError.permanent('WEBHOOK_PAYLOAD_INVALID', `event ${i} has no numeric ${k}`);
    if (typeof ev['subscriptionType'] !== 'string')
      throw ConnectorError.permanent(
        'WEBHOOK_PAYLOAD_INVALID',
        `event ${i} has no subscriptionType`,
      );
    return ev as unknown as HubSpotWebhookEvent;
  });
}

export interface WebhookMappingOptions {
  readonly portalId: string;
  readonly schema: HubSpotSchema;
  /** Canonical type of contact events. */
  readonly contactObjectType: 'lead' | 'contact';
}

type EventKind = 'created' | 'updated' | 'deleted' | 'ignored';

function eventKind(subscriptionType: string): EventKind {
  const action = subscriptionType.slice(subscriptionType.indexOf('.') + 1);
  switch (action) {
    case 'creation':
    case 'restore':
      return 'created';
    case 'propertyChange':
      return 'updated';
    case 'deletion':
    case 'privacyDeletion':
      return 'deleted';
    default:
      // merge, associationChange and others carry no field values this adapter maps.
      return 'ignored';
  }
}

function canonicalType(e: HubSpotWebhookEvent, o: WebhookMappingOptions): string | undefined {
  const prefix = e.subscriptionType.slice(0, e.subscriptionType.indexOf('.'));
  const objectName =
    prefix === 'object' ? webhookObjectName(apiObjectName(e.objectTypeId ?? '')) : prefix;
  if (objectName === 'contact') return o.contactObjectType;
  for (const objectType of o.schema.objectTypes())
    if (webhookObjectName(o.schema.apiObject(objectType)) === objectName) return objectType;
  return undefined;
}

/** Canonical fields a HubSpot property feeds (`firstname` → `name`, `amount` → `amountMinor`). */
function canonicalFieldsOf(schema: HubSpotSchema, objectType: string, property: string): string[] {
  const out: string[] = [];
  for (const spec of schema.fields(objectType)) {
    if (spec.kind === 'company-association') continue;
    if (spec.kind === 'full-name') {
      if (property === 'firstname' || property === 'lastname') out.push(spec.name);
    } else if (schema.mapping.crmField(objectType, spec.name) === property) out.push(spec.name);
  }
  return out;
}

/**
 * A webhook call's events as ChangeRecords, oldest first (by `occurredAt`, ties by `eventId`).
 *
 * - Events of one record at one instant (a create and the property values it set, or a PATCH
 *   of several properties) are one ChangeRecord: deleted if one of them is a deletion, created
 *   if one is a creation, else updated.
 * - `changedFields` and `snapshot` hold what the events carry: the changed properties and their
 *   new values, in canonical names. A creation event alone carries no values, and a full
 *   snapshot would need a read (GET /crm/v3/objects/...), which the webhook path does not make.
 *   `amountMinor` is in the snapshot only when the deal's currency changed in the same group
 *   (the digits depend on it); `name` only when both name parts did.
 * - Updates of properties the mapping does not know are dropped.
 * - `sourceId` is derived from the portal, the record, `occurredAt` and the sorted event ids:
 *   HubSpot retries a failed call with the same events (only `attemptNumber` grows), so a
 *   retried call yields the same ids. HubSpot documents `eventId` as not guaranteed unique on
 *   its own, hence the other parts.
 *
 * Events of another portal make the whole call fail (permanent WEBHOOK_WRONG_PORTAL): with an
 * app installed in several portals, the service must split calls by `portalId` first.
 */
export function webhookChanges(
  events: readonly HubSpotWebhookEvent[],
  o: WebhookMappingOptions,
): ChangeRecord[] {
  for (const e of events)
    if (String(e.portalId) !== o.portalId)
      throw ConnectorError.permanent(
        'WEBHOOK_WRONG_PORTAL',
        `HubSpot webhook carries events of portal ${e.portalId}, not of this tenant's portal`,
      );
  const sorted = [...events].sort((a, b) => a.occurredAt - b.occurredAt || a.eventId - b.eventId);
  const groups = new Map<
    string,
    { objectType: string; objectId: string; occurredAt: number; events: HubSpotWebhookEvent[] }
  >();
  for (const e of sorted) {
    if (eventKind(e.subscriptionType) === 'ignored') continue;
    const objectType = canonicalType(e, o);
    if (!objectType) continue;
    const key = `${objectType}\u0000${e.objectId}\u0000${e.occurredAt}`;
    const g = groups.get(key);
    if (g) g.events.push(e);
    else
      groups.set(key, {
        objectType,
        objectId: String(e.objectId),
        occurredAt: e.occurredAt,
        events: [e],
      });
  }
  const changes: ChangeRecord[] = [];
  for (const g of groups.values()) {
    const kinds = new Set(g.events.map((e) => eventKind(e.subscriptionType)));
    const change = kinds.has('deleted') ? 'deleted' : kinds.has('created') ? 'created' : 'updated';
    const properties: Record<string, string> = {};
    const changed = new Set<string>();
    for (const e of g.events) {
      if (eventKind(e.subscriptionType) !== 'updated' || !e.propertyName) continue;
      const fields = canonicalFieldsOf(o.schema, g.objectType, e.propertyName);
      if (!fields.length) continue;
      for (const field of fields) changed.add(field);
      properties[e.propertyName] = e.propertyValue ?? '';
    }
    if (change === 'updated' && changed.size === 0) continue;
    const snapshot = o.schema.fromHubSpot(g.objectType, properties, [...changed]);
    const specs = new Map(o.schema.fields(g.objectType).map((s) => [s.name, s]));
    for (const field of Object.keys(snapshot)) {
      const kind = specs.get(field)?.kind;
      const currencyProp = specs.has('currencyCode')
        ? o.schema.mapping.crmField(g.objectType, 'currencyCode')
        : undefined;
      if (kind === 'money-minor' && !(currencyProp && currencyProp in properties))
        delete snapshot[field];
      if (kind === 'full-name' && !('firstname' in properties && 'lastname' in properties))
        delete snapshot[field];
    }
    const ids = g.events
      .map((e) => e.eventId)
      .sort((a, b) => a - b)
      .join(',');
    const digest = createHash('sha256').update(ids).digest('hex').slice(0, 16);
    changes.push({
      target: { objectType: g.objectType, recordId: g.objectId },
      change,
      changedFields: [...changed],
      snapshot,
      occurredAt: new Date(g.occurredAt),
      sourceId: `hubspot:${o.portalId}:${g.objectType}:${g.objectId}:${g.occurredAt}:${digest}`,
    });
  }
  return changes;
}
