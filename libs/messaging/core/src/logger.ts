/** The logging surface the bus needs; adapters forward driver logs into it. */
export interface BusLogger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

const noop = (): void => undefined;

/** Default logger: drops everything, so a library never writes to stdout on its own. */
export const silentLogger: BusLogger = { debug: noop, info: noop, warn: noop, error: noop };
