/**
 * The gRPC side of `npm run bench:policy`, run as its own process (a real caller is one): times
 * `PolicyService.Decide` and an empty unary call (the transport's floor) against the bench's
 * server and prints the rows. Usage: node tools/run.js tools/bench/grpc-decide.client.js PORT N
 */
import { credentials } from '@grpc/grpc-js';
import {
  ActionProposal,
  ConnectorServiceClient,
  PolicyServiceClient,
  type DecideResponse,
} from '@mandate/contracts';
import { stats, time } from './bench-stats';

async function main() {
  const [port, n] = [Number(process.argv[2]), Number(process.argv[3] ?? 2000)];
  const proposal = ActionProposal.fromJSON(JSON.parse(process.env.BENCH_PROPOSAL ?? '{}'));
  const decideClient = new PolicyServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const floorClient = new ConnectorServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const decide = () =>
    new Promise<DecideResponse>((resolve, reject) =>
      decideClient.decide({ proposal }, (err: Error | null, res?: DecideResponse) =>
        err ? reject(err) : res?.decision?.verdict ? resolve(res) : reject(new Error('no verdict')),
      ),
    );
  const empty = () =>
    new Promise<void>((resolve, reject) =>
      floorClient.getCapabilities({ tenantId: 'acme' }, (err: Error | null) =>
        err ? reject(err) : resolve(),
      ),
    );
  const row = stats('gRPC Decide (client in its own process)', await time(decide, n, 500));
  stats('gRPC empty unary (transport floor)', await time(empty, n, 500));
  process.stdout.write(`GRPC_DECIDE_P99_US=${row.p99us}\n`);
  decideClient.close();
  floorClient.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
