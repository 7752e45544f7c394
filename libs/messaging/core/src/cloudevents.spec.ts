import {
  context,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  createTraceState,
  type Context,
  type ContextManager,
} from '@opentelemetry/api';
import {
  contentTypeMatches,
  currentTraceContext,
  decodeCloudEventHeaders,
  encodeCloudEventHeaders,
  isValidTraceparent,
  type CloudEventAttributes,
} from './cloudevents';
import { MalformedMessageError } from './errors';

const attrs: CloudEventAttributes = {
  id: 'evt-1',
  type: 'mandate.v1.ActionProposal',
  source: 'orchestrator',
  time: '2025-01-02T03:04:05.678Z',
  subject: 'lead/42',
  tenantId: 'acme',
  correlationId: 'corr-1',
  contentType: 'application/protobuf',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'congo=t61rcWkgMzE',
};

describe('CloudEvents Kafka binding (binary mode)', () => {
  it('writes ce_* headers, content-type and W3C trace headers', () => {
    expect(encodeCloudEventHeaders(attrs)).toEqual({
      ce_specversion: '1.0',
      ce_id: 'evt-1',
      ce_type: 'mandate.v1.ActionProposal',
      ce_source: 'orchestrator',
      ce_time: '2025-01-02T03:04:05.678Z',
      ce_subject: 'lead/42',
      ce_tenantid: 'acme',
      ce_correlationid: 'corr-1',
      'content-type': 'application/protobuf',
      traceparent: attrs.traceparent,
      tracestate: attrs.tracestate,
    });
  });

  it('omits optional attributes that are absent', () => {
    const { subject: _s, traceparent: _t, tracestate: _ts, ...required } = attrs;
    const headers = encodeCloudEventHeaders(required);
    expect(Object.keys(headers)).not.toEqual(expect.arrayContaining(['ce_subject']));
    expect(headers).not.toHaveProperty('traceparent');
    expect(decodeCloudEventHeaders(headers)).toEqual(required);
  });

  it('reads back what it wrote', () => {
    expect(decodeCloudEventHeaders(encodeCloudEventHeaders(attrs))).toEqual(attrs);
  });

  it.each([
    'ce_specversion',
    'ce_id',
    'ce_type',
    'ce_source',
    'ce_time',
    'ce_tenantid',
    'ce_correlationid',
    'content-type',
  ])('treats a message without %s as malformed', (header) => {
    const headers: Record<string, string> = encodeCloudEventHeaders(attrs);
    delete headers[header];
    expect(() => decodeCloudEventHeaders(headers)).toThrow(
      new MalformedMessageError(`missing CloudEvents header ${header}`),
    );
  });

  it('rejects another spec version and an unparseable time', () => {
    expect(() =>
      decodeCloudEventHeaders({ ...encodeCloudEventHeaders(attrs), ce_specversion: '0.3' }),
    ).toThrow(MalformedMessageError);
    expect(() =>
      decodeCloudEventHeaders({ ...encodeCloudEventHeaders(attrs), ce_time: 'yesterday' }),
    ).toThrow(/invalid ce_time/);
  });

  it('drops an invalid traceparent (and its tracestate) instead of rejecting the message', () => {
    const decoded = decodeCloudEventHeaders({
      ...encodeCloudEventHeaders(attrs),
      traceparent: 'garbage',
    });
    expect(decoded.traceparent).toBeUndefined();
    expect(decoded.tracestate).toBeUndefined();
    expect(decoded.id).toBe('evt-1');
  });
});

describe('isValidTraceparent', () => {
  it.each([
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', true],
    ['01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future', true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', false],
    ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', false],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', false],
    ['00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01', false],
    ['00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', false],
  ])('%s -> %s', (value, valid) => {
    expect(isValidTraceparent(value)).toBe(valid);
  });
});

describe('contentTypeMatches', () => {
  it('accepts both protobuf spellings and ignores parameters', () => {
    expect(contentTypeMatches('application/protobuf', 'application/x-protobuf')).toBe(true);
    expect(
      contentTypeMatches('application/protobuf', 'application/protobuf; proto=mandate.v1.X'),
    ).toBe(true);
    expect(contentTypeMatches('application/protobuf', 'application/json')).toBe(false);
    expect(contentTypeMatches('application/json', 'Application/JSON; charset=utf-8')).toBe(true);
  });
});

/** A synchronous context manager: enough to make `context.with` observable in a unit test. */
class StackContextManager implements ContextManager {
  private stack: Context[] = [];
  active(): Context {
    return this.stack[this.stack.length - 1] ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this.stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.stack.pop();
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.stack = [];
    return this;
  }
}

describe('currentTraceContext', () => {
  afterEach(() => context.disable());

  it('starts a new sampled root trace when no span is active', () => {
    const a = currentTraceContext();
    const b = currentTraceContext();
    expect(isValidTraceparent(a.traceparent)).toBe(true);
    expect(a.traceparent).toMatch(/-01$/);
    expect(a.traceparent).not.toBe(b.traceparent);
    expect(a.tracestate).toBeUndefined();
  });

  it('continues the active OpenTelemetry span', () => {
    context.setGlobalContextManager(new StackContextManager());
    const spanContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.NONE,
      traceState: createTraceState('vendor=abc'),
    };
    const ctx = trace.setSpanContext(context.active(), spanContext);
    expect(context.with(ctx, () => currentTraceContext())).toEqual({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
      tracestate: 'vendor=abc',
    });
  });
});
