import 'reflect-metadata';
import { OrchestratorServiceModule } from '@mandate/orchestrator-service';
import { bootServiceApp, serviceConfigSchema } from '@mandate/platform/distributed';

bootServiceApp({
  name: 'orchestrator',
  schema: serviceConfigSchema('orchestrator', { http: 8081, grpc: 50051 }),
  module: (runtime) =>
    OrchestratorServiceModule.create({ context: runtime.context, stores: runtime.stores }),
});
