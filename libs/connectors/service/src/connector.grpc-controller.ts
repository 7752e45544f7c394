import { status } from '@grpc/grpc-js';
import {
  ConnectorServiceService,
  GetCapabilitiesRequest,
  GetRecordRequest,
  GetRecordResponse,
} from '@mandate/contracts';
import { EMBEDDED_CAPABILITIES, EmbeddedCrm } from '@mandate/connectors-domain';
import { isTenantId } from '@mandate/storage';
import { GrpcError, GrpcServerHost } from '@mandate/platform';

export function registerConnectorGrpc(host: GrpcServerHost, crm: EmbeddedCrm): void {
  const tenantOf = (raw: string) => {
    if (!isTenantId(raw)) throw new GrpcError(status.INVALID_ARGUMENT, 'tenant_id is invalid');
    return raw;
  };
  host.addUnaryService(ConnectorServiceService, {
    getCapabilities: async (raw) => {
      tenantOf((raw as GetCapabilitiesRequest).tenantId);
      return EMBEDDED_CAPABILITIES;
    },
    getRecord: async (raw) => {
      const req = raw as GetRecordRequest;
      const tenant = tenantOf(req.tenantId);
      if (!req.record?.recordId || !req.record.objectType)
        throw new GrpcError(status.INVALID_ARGUMENT, 'record is required');
      const record = await crm.get(tenant, req.record.recordId);
      if (!record || record.objectType !== req.record.objectType)
        return GetRecordResponse.fromPartial({ found: false });
      return GetRecordResponse.fromPartial({ found: true, fields: scalarFields(record.fields) });
    },
  });
}

/** Only scalar values travel: policy facts are scalars, and nested data is not part of the contract. */
export function scalarFields(
  fields: Record<string, unknown>,
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
