import { status } from '@grpc/grpc-js';
import {
  ConnectorServiceService,
  GetCapabilitiesRequest,
  GetCapabilitiesResponse,
  GetRecordRequest,
  GetRecordResponse,
} from '@mandate/contracts';
import { ConnectorError, objectSpec, toCapabilitiesResponse } from '@mandate/connector-sdk';
import type { ConnectorRegistry } from '@mandate/connectors-domain';
import { isTenantId, type TenantId } from '@mandate/storage';
import { GrpcError, GrpcServerHost } from '@mandate/platform';

/**
 * ConnectorService: a tenant's connector capabilities, and record reads (only the requested
 * fields) for policy facts and agent context. CRM errors map to gRPC codes: retryable →
 * UNAVAILABLE, auth-expired → FAILED_PRECONDITION, permanent/conflict → FAILED_PRECONDITION.
 */
export function registerConnectorGrpc(host: GrpcServerHost, registry: ConnectorRegistry): void {
  const connectorOf = (raw: string) => {
    if (!isTenantId(raw)) throw new GrpcError(status.INVALID_ARGUMENT, 'tenant_id is invalid');
    const connector = registry.resolve(raw as TenantId);
    if (!connector) throw new GrpcError(status.NOT_FOUND, `tenant ${raw} has no CRM connector`);
    return connector;
  };
  host.addUnaryService(ConnectorServiceService, {
    getCapabilities: async (raw): Promise<GetCapabilitiesResponse> =>
      toCapabilitiesResponse(connectorOf((raw as GetCapabilitiesRequest).tenantId).capabilities),
    getRecord: async (raw): Promise<GetRecordResponse> => {
      const req = raw as GetRecordRequest;
      const connector = connectorOf(req.tenantId);
      if (!req.record?.recordId || !req.record.objectType)
        throw new GrpcError(status.INVALID_ARGUMENT, 'record is required');
      const spec = objectSpec(connector.capabilities, req.record.objectType);
      if (!spec) return GetRecordResponse.fromPartial({ found: false });
      const declared = spec.fields.map((f) => f.name);
      const unknown = req.fields.filter((f) => !declared.includes(f));
      if (unknown.length)
        throw new GrpcError(
          status.INVALID_ARGUMENT,
          `${req.record.objectType} has no field(s) ${unknown.slice(0, 5).join(', ')}`,
        );
      try {
        const record = await connector.read({
          tenantId: req.tenantId,
          target: { objectType: req.record.objectType, recordId: req.record.recordId },
          fields: req.fields.length ? req.fields : declared,
        });
        if (!record) return GetRecordResponse.fromPartial({ found: false });
        return GetRecordResponse.fromPartial({ found: true, fields: scalarFields(record.fields) });
      } catch (err) {
        if (err instanceof ConnectorError)
          throw new GrpcError(
            err.kind === 'retryable' ? status.UNAVAILABLE : status.FAILED_PRECONDITION,
            `${connector.connector} ${err.kind} ${err.code}`,
          );
        throw err;
      }
    },
  });
}

/** Only scalar values travel: policy facts are scalars, and nested data is not part of the contract. */
export function scalarFields(
  fields: Readonly<Record<string, unknown>>,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v))
    )
      out[k] = v;
  }
  return out;
}
