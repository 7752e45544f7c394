import { status } from '@grpc/grpc-js';
import { ConnectorServiceService, GetCapabilitiesRequest } from '@mandate/contracts';
import { EMBEDDED_CAPABILITIES } from '@mandate/connectors-domain';
import { isTenantId } from '@mandate/storage';
import { GrpcError, GrpcServerHost } from '@mandate/platform';

export function registerConnectorGrpc(host: GrpcServerHost): void {
  host.addUnaryService(ConnectorServiceService, {
    getCapabilities: async (raw) => {
      const req = raw as GetCapabilitiesRequest;
      if (!isTenantId(req.tenantId))
        throw new GrpcError(status.INVALID_ARGUMENT, 'tenant_id is invalid');
      return EMBEDDED_CAPABILITIES;
    },
  });
}
