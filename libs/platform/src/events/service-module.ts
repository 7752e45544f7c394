import { DynamicModule, Provider, Type } from '@nestjs/common';
import type { OutboxSource } from '@mandate/storage';
import { SERVICE_CONTEXT, ServiceContext } from '../service-context';
import { OutboxRelayHost, RelayLifecycle } from './outbox-relay.host';
import { CONSUMER_CLASSES, ConsumerHost } from './consumer-host';

export interface ServiceModuleParts {
  module: Type;
  context: ServiceContext;
  consumers: Type[];
  providers?: Provider[];
  controllers?: Type[];
  exports?: Array<Type | string | symbol>;
  /** Stores whose outboxes this service publishes; the relay runs with the app. */
  outbox?: { sources: OutboxSource[]; intervalMs?: number };
}

/**
 * Builds one service's Nest module: its context, its consumers (subscribed by a ConsumerHost in
 * the service's own group) and its providers. Nothing is global, so the embedded process can
 * import all five service modules side by side without their providers colliding.
 */
export function serviceModule(parts: ServiceModuleParts): DynamicModule {
  return {
    module: parts.module,
    controllers: parts.controllers ?? [],
    providers: [
      { provide: SERVICE_CONTEXT, useValue: parts.context },
      { provide: CONSUMER_CLASSES, useValue: parts.consumers },
      ConsumerHost,
      ...parts.consumers,
      ...(parts.providers ?? []),
      ...(parts.outbox
        ? [
            {
              provide: OutboxRelayHost,
              useValue: new OutboxRelayHost(
                parts.context,
                parts.outbox.sources,
                parts.outbox.intervalMs,
              ),
            },
            RelayLifecycle,
          ]
        : []),
    ],
    exports: parts.exports ?? [],
  };
}
