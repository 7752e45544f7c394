import { status } from '@grpc/grpc-js';
import {
  GetCheckpointRequest,
  GetCheckpointResponse,
  LedgerServiceService,
  ListByCorrelationRequest,
  ListByCorrelationResponse,
} from '@mandate/contracts';
import { LedgerReader } from '@mandate/ledger-domain';
import { isTenantId } from '@mandate/storage';
import { GrpcError, GrpcServerHost } from '@mandate/platform';

/**
 * Ledger queries over gRPC. Proofs and signed checkpoints arrive with the audit-ledger issue;
 * until then those calls answer UNIMPLEMENTED rather than something unverifiable.
 */
export function registerLedgerGrpc(
  host: GrpcServerHost,
  reader: LedgerReader,
  origin: string,
): void {
  const tenantOf = (raw: string) => {
    if (!isTenantId(raw)) throw new GrpcError(status.INVALID_ARGUMENT, 'tenant_id is invalid');
    return raw;
  };
  host.addUnaryService(LedgerServiceService, {
    listByCorrelation: async (raw) => {
      const req = raw as ListByCorrelationRequest;
      if (!req.correlationId)
        throw new GrpcError(status.INVALID_ARGUMENT, 'correlation_id is required');
      return ListByCorrelationResponse.fromPartial({
        entries: await reader.byCorrelation(tenantOf(req.tenantId), req.correlationId),
      });
    },
    getCheckpoint: async (raw) => {
      const req = raw as GetCheckpointRequest;
      const head = await reader.head(tenantOf(req.tenantId));
      // Unsigned tree head (size + root); the signed note comes with the audit-ledger issue.
      return GetCheckpointResponse.fromPartial({
        checkpoint: {
          origin: `${origin}/${req.tenantId}`,
          treeSize: String(head.size),
          rootHash: head.root,
          signedNote: '',
        },
      });
    },
    getInclusionProof: async () => {
      throw new GrpcError(status.UNIMPLEMENTED, 'inclusion proofs are not implemented yet');
    },
    getConsistencyProof: async () => {
      throw new GrpcError(status.UNIMPLEMENTED, 'consistency proofs are not implemented yet');
    },
  });
}
