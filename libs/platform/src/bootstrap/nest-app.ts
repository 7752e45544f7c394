import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PinoNestLogger, type Logger } from '../logging/logger';
import type { OpsTargets } from '../ops/ops.controller';
import { OpsModule } from '../ops/ops.module';

/** Creates a Nest app from service modules plus the ops endpoints, logging through pino. */
export async function createNestApp(
  modules: DynamicModule[],
  ops: OpsTargets,
  logger: Logger,
): Promise<INestApplication> {
  @Module({})
  class RootModule {}
  const app = await NestFactory.create(
    { module: RootModule, imports: [...modules, OpsModule.forTargets(ops)] },
    {
      logger: new PinoNestLogger(logger.child({ component: 'nest' })),
      abortOnError: false,
      // Webhook signatures are over the exact bytes received (see the connectors' WebhookController).
      rawBody: true,
    },
  );
  return app;
}
