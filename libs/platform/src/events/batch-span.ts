import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  propagation,
  trace,
  type Link,
} from '@opentelemetry/api';
import type { Envelope } from '@mandate/messaging';

/** OpenTelemetry's default span link limit; more would be dropped anyway. */
const MAX_LINKS = 128;

/**
 * Runs a batch handler in one consumer span. The span continues the trace of the batch's first
 * message (its traceparent is the parent, so work done for the batch shows up in that trace) and
 * carries a link to the span of every other message with a distinct trace context (up to 128),
 * so each message's trace leads to the batch that processed it.
 */
export async function inBatchSpan<T>(
  envs: ReadonlyArray<Envelope<unknown>>,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  const contextOf = (e: Envelope<unknown>) =>
    propagation.extract(ROOT_CONTEXT, {
      ...(e.traceparent ? { traceparent: e.traceparent } : {}),
      ...(e.tracestate ? { tracestate: e.tracestate } : {}),
    });
  const first = envs[0];
  const parent = first ? contextOf(first) : ROOT_CONTEXT;
  const parentSpan = trace.getSpanContext(parent);
  const seen = new Set<string>(parentSpan ? [`${parentSpan.traceId}-${parentSpan.spanId}`] : []);
  const links: Link[] = [];
  for (const e of envs.slice(1)) {
    if (links.length >= MAX_LINKS) break;
    const sc = trace.getSpanContext(contextOf(e));
    if (!sc || seen.has(`${sc.traceId}-${sc.spanId}`)) continue;
    seen.add(`${sc.traceId}-${sc.spanId}`);
    links.push({ context: sc });
  }
  const span = {
    kind: SpanKind.CONSUMER,
    links,
    attributes: { 'messaging.batch.message_count': envs.length },
  };
  return trace.getTracer('mandate').startActiveSpan(name, span, parent, async (s) => {
    try {
      return await fn();
    } catch (err) {
      s.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      s.end();
    }
  });
}
