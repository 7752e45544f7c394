import type { BusLogger } from '@mandate/messaging';
import type { Logger } from 'pino';

/** Lets the bus (and kafkajs through it) log into the service's pino logger. */
export function busLogger(logger: Logger): BusLogger {
  const child = logger.child({ component: 'event-bus' });
  return {
    debug: (m, ctx) => child.debug(ctx ?? {}, m),
    info: (m, ctx) => child.info(ctx ?? {}, m),
    warn: (m, ctx) => child.warn(ctx ?? {}, m),
    error: (m, ctx) => child.error(ctx ?? {}, m),
  };
}
