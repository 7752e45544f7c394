// Proves the generated grpc-js service definitions and clients work together over a real
// (loopback) HTTP/2 connection, with the ts-proto encoders on both ends.
import { Server, ServerCredentials, credentials, status, type ServiceError } from '@grpc/grpc-js';
import {
  DecideResponse,
  PolicyServiceClient,
  PolicyServiceServer,
  PolicyServiceService,
  Verdict,
  ActionProposal,
} from './index';

describe('PolicyService over gRPC', () => {
  let server: Server;
  let client: PolicyServiceClient;

  beforeAll(async () => {
    const impl: PolicyServiceServer = {
      decide: (call, callback) => {
        const proposal = call.request.proposal;
        if (!proposal?.action?.kind) {
          callback({ code: status.INVALID_ARGUMENT, details: 'proposal without action' });
          return;
        }
        callback(
          null,
          DecideResponse.fromPartial({
            decision: { proposal, verdict: Verdict.VERDICT_APPROVE_1 },
          }),
        );
      },
      preview: (_call, callback) =>
        callback(null, { verdict: Verdict.VERDICT_DENY, explanation: undefined }),
      recheck: (_call, callback) => callback({ code: status.UNIMPLEMENTED }),
      getOversight: (_call, callback) => callback({ code: status.UNIMPLEMENTED }),
      setKillSwitch: (_call, callback) => callback({ code: status.UNIMPLEMENTED }),
      clearKillSwitch: (_call, callback) => callback({ code: status.UNIMPLEMENTED }),
    };
    server = new Server();
    server.addService(PolicyServiceService, impl);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    client = new PolicyServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const decide = (proposal: Parameters<typeof ActionProposal.fromPartial>[0]) =>
    new Promise<DecideResponse>((resolve, reject) =>
      client.decide(
        { proposal: ActionProposal.fromPartial(proposal) },
        (err: ServiceError | null, res: DecideResponse) => (err ? reject(err) : resolve(res)),
      ),
    );

  it('carries a proposal and its typed oneof action to the server and the decision back', async () => {
    const response = await decide({
      proposalId: 'prop-1',
      action: {
        kind: {
          $case: 'applyDiscount',
          value: { discountPercent: 10, reason: 'r', listAmount: undefined },
        },
      },
    });

    expect(response.decision?.verdict).toBe(Verdict.VERDICT_APPROVE_1);
    expect(response.decision?.proposal?.action?.kind).toEqual({
      $case: 'applyDiscount',
      value: { discountPercent: 10, reason: 'r', listAmount: undefined },
    });
  });

  it('surfaces server errors as gRPC status codes', async () => {
    await expect(decide({ proposalId: 'prop-2' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });
});
