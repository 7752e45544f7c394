import { DynamicModule, INestApplication } from '@nestjs/common';
import { createNestApp } from './nest-app';
import { z } from 'zod';
import { env, loadConfig } from '../config/load-config';
import { createLogger } from '../logging/logger';
import { GrpcServerHost } from '../grpc/grpc-server';
import { DistributedRuntime } from '../runtime/distributed.runtime';
import { installTracing } from '../tracing/tracing';
import { runService } from './run-service';

/** Variables every service app reads; each app extends this with its own. */
export function serviceConfigSchema(service: string, ports: { http: number; grpc: number }) {
  return z.object({
    HOST: z.string().default('0.0.0.0'),
    HTTP_PORT: env.port(ports.http),
    GRPC_PORT: env.port(ports.grpc),
    KAFKA_BROKERS: env.brokers(),
    MONGO_URL: env.mongoUrl(),
    MONGO_DATABASE: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, "_" or "-"')
      .default(`mandate_${service.replace(/-/g, '_')}`),
    LOG_LEVEL: env.logLevel(),
  });
}
export type ServiceConfig = z.infer<ReturnType<typeof serviceConfigSchema>>;

export interface ServiceAppSpec<S extends ReturnType<typeof serviceConfigSchema>> {
  name: string;
  schema: S;
  module(runtime: DistributedRuntime, config: z.infer<S>): Promise<DynamicModule>;
  /** Registers the service's gRPC handlers; the app is initialised by then. */
  grpc?(host: GrpcServerHost, app: INestApplication, config: z.infer<S>): void;
}

/**
 * The whole life of a service app: validate config (exit 78 on a bad value), connect Kafka and
 * MongoDB, start HTTP (ops + API) and gRPC, and shut all of it down in order on SIGTERM.
 */
export function bootServiceApp<S extends ReturnType<typeof serviceConfigSchema>>(
  spec: ServiceAppSpec<S>,
): void {
  void runService(spec.name, async () => {
    const config = loadConfig(spec.name, spec.schema) as z.infer<S>;
    installTracing();
    const logger = createLogger(spec.name, config.LOG_LEVEL);
    const runtime = await DistributedRuntime.connect(
      {
        service: spec.name,
        brokers: config.KAFKA_BROKERS,
        mongoUrl: config.MONGO_URL,
        mongoDatabase: config.MONGO_DATABASE,
      },
      logger,
    );
    const module = await spec.module(runtime, config);
    const app = await createNestApp(
      [module],
      { metrics: [runtime.context.metrics], readiness: [runtime.context.readiness] },
      logger,
    );
    await app.listen(config.HTTP_PORT, config.HOST);
    const grpc = new GrpcServerHost(logger, runtime.context.metrics);
    if (spec.grpc) {
      spec.grpc(grpc, app, config);
      const port = await grpc.start(config.HOST, config.GRPC_PORT);
      logger.info({ port }, 'gRPC listening');
    }
    logger.info({ http: config.HTTP_PORT }, `${spec.name} started`);
    return {
      close: async () => {
        logger.info('shutting down');
        await app.close();
        if (spec.grpc) await grpc.stop();
        await runtime.close();
      },
    };
  });
}
