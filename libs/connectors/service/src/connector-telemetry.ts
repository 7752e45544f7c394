import type { ConnectorTelemetry } from '@mandate/connector-sdk';
import type { ServiceMetrics } from '@mandate/platform';

/** The SDK's call, retry and throttle reports as Prometheus counters (no tenant data beyond its id). */
export function prometheusConnectorTelemetry(metrics: ServiceMetrics): ConnectorTelemetry {
  const calls = metrics.counter(
    'connector_calls_total',
    'Adapter calls by connector, operation and outcome (ok or error kind)',
    ['connector', 'operation', 'outcome'],
  );
  const seconds = metrics.counter(
    'connector_call_seconds_total',
    'Time spent in adapter calls, retries included',
    ['connector', 'operation'],
  );
  const retries = metrics.counter(
    'connector_retries_total',
    'Retries of retryable CRM errors, by error code',
    ['connector', 'operation', 'code'],
  );
  const throttled = metrics.counter(
    'connector_throttled_seconds_total',
    'Time calls waited for the tenant rate limit or a Retry-After',
    ['connector', 'tenant'],
  );
  return {
    call: (e) => {
      calls.inc({ connector: e.connector, operation: e.operation, outcome: e.outcome });
      seconds.inc({ connector: e.connector, operation: e.operation }, e.durationMs / 1000);
    },
    retry: (e) => retries.inc({ connector: e.connector, operation: e.operation, code: e.code }),
    throttled: (e) =>
      throttled.inc({ connector: e.connector, tenant: e.tenantId }, e.waitMs / 1000),
  };
}
