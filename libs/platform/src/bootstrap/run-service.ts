import { ConfigError } from '../config/load-config';

/**
 * Entry-point wrapper for every app: a bad configuration prints one clear message and exits 78
 * (EX_CONFIG) instead of a stack trace; SIGTERM/SIGINT close the app gracefully (consumers finish
 * their in-flight message and commit) before the process exits.
 */
export async function runService(
  name: string,
  start: () => Promise<{ close(): Promise<void> }>,
): Promise<void> {
  let app: { close(): Promise<void> };
  try {
    app = await start();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    console.error(`${name} failed to start: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  }
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => {
      console.error(`${name}: graceful shutdown timed out after ${signal}`);
      process.exit(1);
    }, 15000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        console.error(`${name}: error while shutting down: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
