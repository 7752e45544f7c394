import { status } from '@grpc/grpc-js';
import {
  GetCausalChainRequest,
  GetCausalChainResponse,
  GetCheckpointRequest,
  GetCheckpointResponse,
  GetConsistencyProofRequest,
  GetConsistencyProofResponse,
  GetEntryRequest,
  GetEntryResponse,
  GetInclusionProofRequest,
  GetInclusionProofResponse,
  LedgerServiceService,
  ListByCorrelationRequest,
  ListByCorrelationResponse,
  ListCheckpointsRequest,
  ListCheckpointsResponse,
  ListEntriesRequest,
  ListEntriesResponse,
} from '@mandate/contracts';
import { LedgerReader, MAX_PAGE } from '@mandate/ledger-domain';
import { tenantId, isTenantId, type TenantId } from '@mandate/storage';
import { GrpcError, GrpcServerHost } from '@mandate/platform';

/**
 * Ledger queries over gRPC: entries, signed checkpoints, RFC 9162 inclusion and consistency
 * proofs, causal chains with proofs, and paging for exports. Every proof is against a signed
 * checkpoint, so a client needs only the log's public key to verify.
 */
export function registerLedgerGrpc(host: GrpcServerHost, reader: LedgerReader): void {
  const tenantOf = (raw: string): TenantId => {
    if (!isTenantId(raw)) throw new GrpcError(status.INVALID_ARGUMENT, 'tenant_id is invalid');
    return tenantId(raw);
  };
  const size = (raw: string | undefined, what: string): number => {
    const n = Number(raw ?? '0');
    if (!Number.isSafeInteger(n) || n < 0)
      throw new GrpcError(status.INVALID_ARGUMENT, `${what} is out of range`);
    return n;
  };
  const latest = async (tenant: TenantId) => {
    const cp = await reader.latestCheckpoint(tenant);
    if (!cp) throw new GrpcError(status.NOT_FOUND, 'no checkpoint has been signed yet');
    return cp;
  };
  const pageOf = (limit: number) => (limit > 0 ? Math.min(limit, MAX_PAGE) : MAX_PAGE);

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
      const tenant = tenantOf((raw as GetCheckpointRequest).tenantId);
      return GetCheckpointResponse.fromPartial({
        checkpoint: reader.toCheckpoint(tenant, await latest(tenant)),
      });
    },
    getInclusionProof: async (raw) => {
      const req = raw as GetInclusionProofRequest;
      const tenant = tenantOf(req.tenantId);
      if (!req.recordId) throw new GrpcError(status.INVALID_ARGUMENT, 'record_id is required');
      const leaf = await reader.leafByRecordId(tenant, req.recordId);
      if (!leaf) throw new GrpcError(status.NOT_FOUND, 'no such record in the log');
      const wanted = size(req.treeSize, 'tree_size');
      const cp = wanted ? await reader.checkpointOfSize(tenant, wanted) : await latest(tenant);
      if (!cp) throw new GrpcError(status.NOT_FOUND, `no checkpoint of size ${wanted}`);
      if (leaf.index >= cp.size)
        throw new GrpcError(
          status.FAILED_PRECONDITION,
          `leaf ${leaf.index} is not covered by a checkpoint of size ${cp.size} yet`,
        );
      return GetInclusionProofResponse.fromPartial({
        leafIndex: String(leaf.index),
        treeSize: String(cp.size),
        leafHash: Buffer.from(leaf.leafHash, 'base64'),
        auditPath: await reader.inclusionProof(tenant, leaf.index, cp.size),
        checkpoint: reader.toCheckpoint(tenant, cp),
      });
    },
    getConsistencyProof: async (raw) => {
      const req = raw as GetConsistencyProofRequest;
      const tenant = tenantOf(req.tenantId);
      const first = size(req.firstTreeSize, 'first_tree_size');
      const wanted = size(req.secondTreeSize, 'second_tree_size');
      const cp = wanted ? await reader.checkpointOfSize(tenant, wanted) : await latest(tenant);
      if (!cp) throw new GrpcError(status.NOT_FOUND, `no checkpoint of size ${wanted}`);
      if (first < 1 || first > cp.size)
        throw new GrpcError(
          status.INVALID_ARGUMENT,
          `first_tree_size must be within 1..${cp.size}`,
        );
      return GetConsistencyProofResponse.fromPartial({
        firstTreeSize: String(first),
        secondTreeSize: String(cp.size),
        proof: await reader.consistencyProof(tenant, first, cp.size),
        checkpoint: reader.toCheckpoint(tenant, cp),
      });
    },
    getEntry: async (raw) => {
      const req = raw as GetEntryRequest;
      const tenant = tenantOf(req.tenantId);
      if (!req.recordId) throw new GrpcError(status.INVALID_ARGUMENT, 'record_id is required');
      const proven = await reader.provenEntry(tenant, req.recordId);
      if (!proven)
        throw new GrpcError(status.NOT_FOUND, 'no such record under a signed checkpoint');
      return GetEntryResponse.fromPartial(proven);
    },
    getCausalChain: async (raw) => {
      const req = raw as GetCausalChainRequest;
      const tenant = tenantOf(req.tenantId);
      const key = req.key;
      if (key?.$case === 'correlationId' && key.value)
        return GetCausalChainResponse.fromPartial(
          await reader.causalChain(tenant, { correlationId: key.value }),
        );
      if (key?.$case === 'record' && key.value.objectType && key.value.recordId)
        return GetCausalChainResponse.fromPartial(
          await reader.causalChain(tenant, {
            subjectKey: `${key.value.objectType}/${key.value.recordId}`,
          }),
        );
      throw new GrpcError(status.INVALID_ARGUMENT, 'a correlation_id or a record is required');
    },
    listEntries: async (raw) => {
      const req = raw as ListEntriesRequest;
      const tenant = tenantOf(req.tenantId);
      const from = size(req.fromIndex, 'from_index');
      const entries = await reader.entries(tenant, from, pageOf(req.limit));
      return ListEntriesResponse.fromPartial({
        entries,
        nextIndex: String(from + entries.length),
      });
    },
    listCheckpoints: async (raw) => {
      const req = raw as ListCheckpointsRequest;
      const tenant = tenantOf(req.tenantId);
      return ListCheckpointsResponse.fromPartial({
        checkpoints: await reader.listCheckpoints(
          tenant,
          size(req.fromSize, 'from_size'),
          pageOf(req.limit),
        ),
      });
    },
  });
}
