import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ServiceProcess {
  name: string;
  httpPort: number;
  grpcPort: number;
  child: ChildProcess;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a compiled app (npm run build first) as its own OS process, exactly as it runs in a
 * container: `node tools/run.js apps/<name>/src/main.js` with configuration in the environment.
 * Output goes to a log file under .stack/e2e so a failing run can be diagnosed.
 */
export function startService(
  name: string,
  httpPort: number,
  grpcPort: number,
  env: Record<string, string>,
  runId: string,
): ServiceProcess {
  const logDir = path.join(ROOT, '.stack', 'e2e', runId);
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}-${Date.now()}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['tools/run.js', `apps/${name}/src/main.js`], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      GRPC_PORT: String(grpcPort),
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', out, out],
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { name, httpPort, grpcPort, child, logFile, exited };
}

export async function waitReady(p: ServiceProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) break;
    try {
      const res = await fetch(`http://127.0.0.1:${p.httpPort}/ready`);
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${p.name} not ready (${last}); log ${p.logFile}:\n${tail(p.logFile)}`);
}

export async function stopService(p: ServiceProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
  await p.exited;
  clearTimeout(timer);
}

export function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Deletes every record currently in these topics (Kafka DeleteRecords up to the high watermark).
 * Each e2e run's services join new consumer groups that read topics from the start; a suite that
 * floods shared topics truncates them afterwards so the next suite does not replay its traffic.
 */
export async function truncateTopics(brokers: string[], topics: string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'e2e-truncate', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.deleteTopicRecords({
        topic,
        partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
