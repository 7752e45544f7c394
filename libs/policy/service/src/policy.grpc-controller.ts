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
import { PolicyDecider } from '@mandate/policy-domain';
import { GrpcError, GrpcServerHost } from '@mandate/platform';

/**
 * gRPC face of policy, on the same engine as the event flow. Decide decides a proposal on the
 * CRM's current facts without recording it (the event flow records); Preview returns the verdict
 * and explanation only; Recheck re-decides after human review and issues a token once the
 * required approvals are present.
 */
export function registerPolicyGrpc(host: GrpcServerHost, decider: PolicyDecider): void {
  host.addUnaryService(PolicyServiceService, {
    decide: async (req) => {
      const { proposal } = req as DecideRequest;
      if (!proposal) throw new GrpcError(status.INVALID_ARGUMENT, 'proposal is required');
      return DecideResponse.fromPartial({ decision: await decider.preview(proposal) });
    },
    preview: async (req) => {
      const { proposal } = req as PreviewRequest;
      if (!proposal) throw new GrpcError(status.INVALID_ARGUMENT, 'proposal is required');
      const decision = await decider.preview(proposal);
      return PreviewResponse.fromPartial({
        verdict: decision.verdict,
        explanation: decision.explanation,
      });
    },
    recheck: async (req) => {
      const { decision, reviews } = req as RecheckRequest;
      if (!decision?.proposal)
        throw new GrpcError(status.INVALID_ARGUMENT, 'decision with its proposal is required');
      return RecheckResponse.fromPartial({ decision: await decider.recheck(decision, reviews) });
    },
  });
}
