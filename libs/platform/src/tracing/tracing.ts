import {
  Context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

let installed = false;

/**
 * Installs OpenTelemetry context propagation for this process: async-local context, the W3C
 * trace-context propagator and a tracer provider that creates real span ids. Exporting spans is
 * the operator's choice (register an exporter via the OTel SDK); propagation works without one,
 * which is what keeps a trace id intact across Kafka and gRPC hops.
 */
export function installTracing(): void {
  if (installed) return;
  installed = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
}

export type TraceCarrier = Record<string, string | undefined>;

/** W3C headers (traceparent, tracestate) for the active context, to put on an outgoing message. */
export function currentTraceHeaders(): { traceparent?: string; tracestate?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return { traceparent: carrier['traceparent'], tracestate: carrier['tracestate'] };
}

/** The trace id of the active span, for log lines. */
export function currentTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  return span?.spanContext().traceId;
}

/**
 * Runs `fn` inside a span whose parent comes from incoming headers (a Kafka message or gRPC
 * metadata), so every publish or call made inside continues the same trace.
 */
export async function inSpanFrom<T>(
  carrier: TraceCarrier,
  name: string,
  kind: 'consumer' | 'server' | 'internal',
  fn: () => Promise<T>,
): Promise<T> {
  const parent: Context = propagation.extract(ROOT_CONTEXT, normalise(carrier));
  const tracer = trace.getTracer('mandate');
  const spanKind =
    kind === 'consumer'
      ? SpanKind.CONSUMER
      : kind === 'server'
        ? SpanKind.SERVER
        : SpanKind.INTERNAL;
  return tracer.startActiveSpan(name, { kind: spanKind }, parent, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      span.end();
    }
  });
}

function normalise(carrier: TraceCarrier): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(carrier)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}
