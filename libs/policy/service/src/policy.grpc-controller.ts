import { status } from '@grpc/grpc-js';
import {
  DecideRequest,
  DecideResponse,
  PolicyServiceService,
  PreviewRequest,
  PreviewResponse,
  RecheckRequest,
  RecheckResponse,
} from '@mandate/contracts';
import { DecisionService } from '@mandate/policy-domain';
import { GrpcError, GrpcServerHost } from '@mandate/platform';

/**
 * gRPC face of policy: Decide evaluates a proposal synchronously (used for re-checks; the event
 * flow decides from Kafka), Preview evaluates without issuing a token.
 */
export function registerPolicyGrpc(host: GrpcServerHost, decisions: DecisionService): void {
  host.addUnaryService(PolicyServiceService, {
    decide: async (req) => {
      const { proposal } = req as DecideRequest;
      if (!proposal) throw new GrpcError(status.INVALID_ARGUMENT, 'proposal is required');
      return DecideResponse.fromPartial({ decision: decisions.evaluate(proposal) });
    },
    preview: async (req) => {
      const { proposal } = req as PreviewRequest;
      if (!proposal) throw new GrpcError(status.INVALID_ARGUMENT, 'proposal is required');
      const decision = decisions.evaluate(proposal);
      return PreviewResponse.fromPartial({
        verdict: decision.verdict,
        explanation: decision.explanation,
      });
    },
    recheck: async (req) => {
      const { decision, reviews } = req as RecheckRequest;
      if (!decision?.proposal)
        throw new GrpcError(status.INVALID_ARGUMENT, 'decision with its proposal is required');
      return RecheckResponse.fromPartial({ decision: decisions.recheck(decision, reviews) });
    },
  });
}
