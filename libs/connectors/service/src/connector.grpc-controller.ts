import { status } from '@grpc/grpc-js';
import {
  ConnectorServiceService,
  FindRecordsRequest,
  FindRecordsResponse,
  GetCapabilitiesRequest,
  GetCapabilitiesResponse,
  GetRecordRequest,
  GetRecordResponse,
} from '@mandate/contracts';
import {
  ConnectorError,
  isFindRequestError,
  objectSpec,
  toCapabilitiesResponse,
  type ManagedConnector,
} from '@mandate/connector-sdk';
import type { ConnectorRegistry } from '@mandate/connectors-domain';
import { isTenantId, type TenantId } from '@mandate/storage';
import { GrpcError, GrpcServerHost } from '@mandate/platform';

/**
 * ConnectorService: a tenant's connector capabilities, record reads (only the requested fields)
 * for policy facts and agent context, and record searches (FindRecords) for an agent's related
 * context. CRM errors map to gRPC codes: retryable → UNAVAILABLE, auth-expired →
 * FAILED_PRECONDITION, permanent/conflict → FAILED_PRECONDITION; a find the request itself makes
 * impossible (undeclared field, too many conditions, bad limit, a field the CRM cannot filter
 * or order by) → INVALID_ARGUMENT; a connector without `find` → UNIMPLEMENTED.
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
        throw toGrpcError(connector, err);
      }
    },
    findRecords: async (raw): Promise<FindRecordsResponse> => {
      const req = raw as FindRecordsRequest;
      const connector = connectorOf(req.tenantId);
      if (!connector.supportsFind)
        throw new GrpcError(
          status.UNIMPLEMENTED,
          `the ${connector.connector} connector cannot find records`,
        );
      if (!req.objectType) throw new GrpcError(status.INVALID_ARGUMENT, 'object_type is required');
      if (req.descending && !req.orderBy)
        throw new GrpcError(status.INVALID_ARGUMENT, 'descending needs order_by');
      try {
        const result = await connector.find({
          tenantId: req.tenantId,
          objectType: req.objectType,
          equals: req.equals ?? {},
          fields: req.fields,
          ...(req.orderBy ? { orderBy: { field: req.orderBy, descending: req.descending } } : {}),
          // proto3 cannot tell 0 from unset: 0 means the default.
          ...(req.limit ? { limit: req.limit } : {}),
        });
        return FindRecordsResponse.fromPartial({
          records: result.records.map((r) => ({
            recordId: r.target.recordId,
            fields: scalarFields(r.fields),
          })),
          truncated: result.truncated,
        });
      } catch (err) {
        throw toGrpcError(connector, err);
      }
    },
  });
}

/** A connector failure as a gRPC status; the message names the connector, kind and code only. */
function toGrpcError(connector: ManagedConnector, err: unknown): unknown {
  // Request errors name fields and bounds (never values): the caller needs them to fix the call.
  if (isFindRequestError(err)) return new GrpcError(status.INVALID_ARGUMENT, err.message);
  if (err instanceof ConnectorError)
    return new GrpcError(
      err.kind === 'retryable' ? status.UNAVAILABLE : status.FAILED_PRECONDITION,
      `${connector.connector} ${err.kind} ${err.code}`,
    );
  return err;
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
