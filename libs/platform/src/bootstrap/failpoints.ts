import type { Logger } from 'pino';

/**
 * Crash points for fault-injection tests: when a named point is reached the process is killed
 * with SIGKILL (no graceful shutdown, no offset commit), exactly like a node failure.
 */
export function envFailpoints(spec: string, logger: Logger): { hit(name: string): void } {
  const armed = new Set(
    spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  if (armed.size)
    logger.warn(
      { failpoints: [...armed] },
      'FAILPOINTS ARMED: this process will crash on purpose (test only)',
    );
  return {
    hit(name: string) {
      if (!armed.has(name)) return;
      logger.warn({ failpoint: name }, 'failpoint reached: killing the process');
      process.kill(process.pid, 'SIGKILL');
    },
  };
}
