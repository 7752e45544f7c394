import { randomBytes } from 'node:crypto';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { MalformedMessageError } from './errors';

/**
 * CloudEvents Kafka protocol binding, binary content mode: attributes travel as `ce_*` headers,
 * the payload is the message value, `content-type` names its encoding. Mandate adds the
 * extension attributes `tenantid` and `correlationid`; trace context travels as W3C headers.
 */
export const CE_SPECVERSION = '1.0';
export const CE_HEADERS = Object.freeze({
  specversion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  subject: 'ce_subject',
  tenantId: 'ce_tenantid',
  correlationId: 'ce_correlationid',
});
export const CONTENT_TYPE_HEADER = 'content-type';
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

/** Content types accepted as protobuf (both spellings are in use). */
const PROTOBUF_CONTENT_TYPES = new Set(['application/protobuf', 'application/x-protobuf']);

export interface CloudEventAttributes {
  id: string;
  type: string;
  source: string;
  /** RFC 3339 timestamp. */
  time: string;
  subject?: string;
  tenantId: string;
  correlationId: string;
  contentType: string;
  traceparent?: string;
  tracestate?: string;
}

export type HeaderMap = Readonly<Record<string, string | undefined>>;

export function encodeCloudEventHeaders(attrs: CloudEventAttributes): Record<string, string> {
  const headers: Record<string, string> = {
    [CE_HEADERS.specversion]: CE_SPECVERSION,
    [CE_HEADERS.id]: attrs.id,
    [CE_HEADERS.type]: attrs.type,
    [CE_HEADERS.source]: attrs.source,
    [CE_HEADERS.time]: attrs.time,
    [CE_HEADERS.tenantId]: attrs.tenantId,
    [CE_HEADERS.correlationId]: attrs.correlationId,
    [CONTENT_TYPE_HEADER]: attrs.contentType,
  };
  if (attrs.subject !== undefined) headers[CE_HEADERS.subject] = attrs.subject;
  if (attrs.traceparent !== undefined) headers[TRACEPARENT_HEADER] = attrs.traceparent;
  if (attrs.tracestate !== undefined) headers[TRACESTATE_HEADER] = attrs.tracestate;
  return headers;
}

/**
 * Reads CloudEvents attributes from headers. Throws MalformedMessageError when a required
 * attribute is missing or invalid. An invalid traceparent is dropped, not fatal: per W3C Trace
 * Context the receiver then starts a new trace, and tracing must never block business messages.
 */
export function decodeCloudEventHeaders(headers: HeaderMap): CloudEventAttributes {
  const required = (name: string): string => {
    const value = headers[name];
    if (value === undefined || value === '') {
      throw new MalformedMessageError(`missing CloudEvents header ${name}`);
    }
    return value;
  };
  const specversion = required(CE_HEADERS.specversion);
  if (specversion !== CE_SPECVERSION) {
    throw new MalformedMessageError(`unsupported ${CE_HEADERS.specversion} "${specversion}"`);
  }
  const time = required(CE_HEADERS.time);
  if (Number.isNaN(Date.parse(time))) {
    throw new MalformedMessageError(`invalid ${CE_HEADERS.time} "${time}"`);
  }
  const traceparent = headers[TRACEPARENT_HEADER];
  const validTrace = traceparent !== undefined && isValidTraceparent(traceparent);
  const attrs: CloudEventAttributes = {
    id: required(CE_HEADERS.id),
    type: required(CE_HEADERS.type),
    source: required(CE_HEADERS.source),
    time,
    tenantId: required(CE_HEADERS.tenantId),
    correlationId: required(CE_HEADERS.correlationId),
    contentType: required(CONTENT_TYPE_HEADER),
  };
  const subject = headers[CE_HEADERS.subject];
  if (subject !== undefined) attrs.subject = subject;
  if (validTrace) {
    attrs.traceparent = traceparent;
    const tracestate = headers[TRACESTATE_HEADER];
    if (tracestate !== undefined && tracestate !== '') attrs.tracestate = tracestate;
  }
  return attrs;
}

/** True when `actual` is an acceptable content type for a codec declaring `expected`. */
export function contentTypeMatches(expected: string, actual: string): boolean {
  const bare = (actual.split(';')[0] ?? '').trim().toLowerCase();
  if (PROTOBUF_CONTENT_TYPES.has(expected)) return PROTOBUF_CONTENT_TYPES.has(bare);
  return bare === expected;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** W3C Trace Context `traceparent` validation (version 00, or a future version's prefix). */
export function isValidTraceparent(value: string): boolean {
  const m = TRACEPARENT.exec(value);
  if (!m) return false;
  const [, version, traceId = '', spanId = '', , rest] = m;
  if (version === 'ff') return false;
  if (version === '00' && rest !== undefined) return false;
  return !/^0+$/.test(traceId) && !/^0+$/.test(spanId);
}

export interface TraceContextHeaders {
  traceparent: string;
  tracestate?: string;
}

/**
 * Trace context for an outgoing message: the active OpenTelemetry span's context when there is
 * one, else a fresh root (sampled, so a tracer with a parent-based sampler still records it).
 */
export function currentTraceContext(): TraceContextHeaders {
  const span = trace.getSpanContext(context.active());
  if (span && isSpanContextValid(span)) {
    const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
    const tracestate = span.traceState?.serialize();
    return {
      traceparent: `00-${span.traceId}-${span.spanId}-${flags}`,
      ...(tracestate ? { tracestate } : {}),
    };
  }
  return { traceparent: `00-${randomHex(16)}-${randomHex(8)}-01` };
}

function randomHex(bytes: number): string {
  // All-zero ids are invalid; the chance is negligible but the check is cheap.
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}
