import { DynamicModule, Module } from '@nestjs/common';
import { OPS_TARGETS, OpsController, OpsTargets } from './ops.controller';

@Module({})
export class OpsModule {
  static forTargets(targets: OpsTargets): DynamicModule {
    return {
      module: OpsModule,
      controllers: [OpsController],
      providers: [{ provide: OPS_TARGETS, useValue: targets }],
    };
  }
}
