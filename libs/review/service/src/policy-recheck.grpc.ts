import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
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
}

/** Policy's re-check over gRPC (`PolicyService.Recheck`) for the distributed human-review app. */
export class GrpcPolicyRecheck implements PolicyRecheckPort {
  private readonly client: InstanceType<typeof PolicyServiceClient>;
  private readonly deadlineMs: number;

  constructor(o: GrpcPolicyRecheckOptions) {
    this.client = new PolicyServiceClient(o.address, credentials.createInsecure());
    this.deadlineMs = o.deadlineMs ?? 5_000;
  }

  recheck(decision: PolicyDecision, reviews: ReviewDecision[]): Promise<PolicyDecision> {
    return new Promise((resolve, reject) =>
      this.client.recheck(
        { decision, reviews },
        new Metadata(),
        { deadline: new Date(Date.now() + this.deadlineMs) },
        (err: ServiceError | null, res?: RecheckResponse) => {
          if (err) reject(new Error(`policy Recheck failed: ${err.details || err.message}`));
          else if (!res?.decision) reject(new Error('policy Recheck answered no decision'));
          else resolve(res.decision);
        },
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}
