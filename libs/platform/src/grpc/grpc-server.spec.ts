import { credentials, status } from '@grpc/grpc-js';
import { context, trace } from '@opentelemetry/api';
import {
  ConnectorServiceClient,
  ConnectorServiceService,
  GetCapabilitiesResponse,
} from '@mandate/contracts';
import { createLogger } from '../logging/logger';
import { ProcessMetrics } from '../ops/metrics';
import { installTracing } from '../tracing/tracing';
import { GrpcError, GrpcServerHost, traceContextClientInterceptor } from './grpc-server';

describe('GrpcServerHost', () => {
  const metrics = new ProcessMetrics(false).forService('test');
  const host = new GrpcServerHost(createLogger('test', 'silent'), metrics);
  let seenTraceId: string | undefined;
  let client: ConnectorServiceClient;

  beforeAll(async () => {
    installTracing();
    host.addUnaryService(ConnectorServiceService, {
      getCapabilities: async (req) => {
        seenTraceId = trace.getSpan(context.active())?.spanContext().traceId;
        const { tenantId } = req as { tenantId: string };
        if (tenantId === 'boom') throw new Error('database password is hunter2');
        if (!tenantId) throw new GrpcError(status.INVALID_ARGUMENT, 'tenant_id is required');
        return GetCapabilitiesResponse.fromPartial({ connector: `for-${tenantId}` });
      },
      getRecord: async () => {
        throw new GrpcError(status.UNIMPLEMENTED, 'not used here');
      },
      findRecords: async () => {
        throw new GrpcError(status.UNIMPLEMENTED, 'not used here');
      },
    });
    const port = await host.start('127.0.0.1', 0);
    client = new ConnectorServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), {
      interceptors: [traceContextClientInterceptor],
    });
  });
  afterAll(async () => {
    client.close();
    await host.stop();
  });

  const call = (tenantId: string) =>
    new Promise<GetCapabilitiesResponse>((resolve, reject) =>
      client.getCapabilities({ tenantId }, (err: Error | null, res?: GetCapabilitiesResponse) =>
        err ? reject(err) : resolve(res!),
      ),
    );

  it("continues the caller's trace on the server", async () => {
    const tracer = trace.getTracer('test');
    const callerTraceId = await tracer.startActiveSpan('caller', async (span) => {
      await call('acme');
      span.end();
      return span.spanContext().traceId;
    });
    expect(callerTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(seenTraceId).toBe(callerTraceId);
  });

  it('maps a GrpcError to its status and hides the detail of unexpected errors', async () => {
    await expect(call('')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'tenant_id is required',
    });
    const err = await call('boom').catch((e: { code: number; details: string }) => e);
    expect(err).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
  });

  it('counts calls by method and status', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /mandate_grpc_calls_total\{service="test",method="\/mandate.v1.ConnectorService\/GetCapabilities",code="OK"\} [1-9]/,
    );
    expect(text).toMatch(/code="INVALID_ARGUMENT"\} 1/);
  });
});
