import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Envelope } from '@mandate/messaging';
import { inBatchSpan } from './batch-span';

const exporter = new InMemorySpanExporter();

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});

const env = (traceparent?: string): Envelope<unknown> =>
  ({ traceparent, attempt: 1 }) as unknown as Envelope<unknown>;

describe('inBatchSpan', () => {
  it('continues the first message trace and links the other messages', async () => {
    const t1 = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const t2 = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    let activeTraceId: string | undefined;
    await inBatchSpan([env(t1), env(t2), env(t2), env(undefined)], 'topic process', async () => {
      activeTraceId = trace.getSpan(context.active())?.spanContext().traceId;
    });
    const [span] = exporter.getFinishedSpans();
    expect(activeTraceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span!.links.map((l) => l.context.traceId)).toEqual(['0af7651916cd43dd8448eb211c80319c']);
    expect(span!.attributes['messaging.batch.message_count']).toBe(4);
  });
});
