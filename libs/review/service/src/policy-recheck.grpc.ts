import { credentials, type ServiceError } from '@grpc/grpc-js';
import { serviceTokenMetadata, unaryCall } from '@mandate/platform';
import {
  PolicyServiceClient,
  type PolicyDecision,
  type RecheckResponse,
  type ReviewDecision,
} from '@mandate/contracts';
import type { PolicyRecheckPort } from '@mandate/review-domain';

export interface GrpcPolicyRecheckOptions {
  /** host:port of the policy service's gRPC server (`POLICY_GRPC_ADDRESS`). */
  readonly address: string;
  /** Per-call deadline (default 5 s). A failure writes nothing: the task stays as it was. */
  readonly deadlineMs?: number;
  /** The service credential policy requires on Recheck (`POLICY_CONTROL_TOKEN`). */
  readonly token?: string;
}

/** Policy's re-check over gRPC (`PolicyService.Recheck`) for the distributed human-review app. */
export class GrpcPolicyRecheck implements PolicyRecheckPort {
  private readonly client: InstanceType<typeof PolicyServiceClient>;
  private readonly deadlineMs: number;
  private readonly token?: string;

  constructor(o: GrpcPolicyRecheckOptions) {
    this.client = new PolicyServiceClient(o.address, credentials.createInsecure());
    this.deadlineMs = o.deadlineMs ?? 5_000;
    this.token = o.token;
  }

  async recheck(decision: PolicyDecision, reviews: ReviewDecision[]): Promise<PolicyDecision> {
    let res: RecheckResponse;
    try {
      res = await unaryCall(
        this.client,
        this.client.recheck,
        { decision, reviews },
        this.deadlineMs,
        this.token ? serviceTokenMetadata(this.token) : undefined,
      );
    } catch (err) {
      const e = err as ServiceError;
      throw new Error(`policy Recheck failed: ${e.details || e.message}`);
    }
    if (!res.decision) throw new Error('policy Recheck answered no decision');
    return res.decision;
  }

  close(): void {
    this.client.close();
  }
}
