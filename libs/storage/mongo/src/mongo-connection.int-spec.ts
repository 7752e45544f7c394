import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { StorageUnavailableError } from '@mandate/storage';
import { MongoConnection } from './mongo-connection';

const MONGO_URL = process.env['MONGO_URL'] ?? 'mongodb://127.0.0.1:27017';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
  return port;
}

describe('MongoConnection readiness', () => {
  it('answers ping against the running server and reports which server it is', async () => {
    const connection = new MongoConnection({
      url: MONGO_URL,
      database: `mandate_ping_${Date.now()}`,
      appName: 'storage-it',
    });
    try {
      await connection.connect();
      await expect(connection.ping()).resolves.toBeUndefined();
      const info = await connection.serverInfo();
      expect(['mongodb', 'ferretdb']).toContain(info.product);
      expect(info.version).toMatch(/^\d+\.\d+/);
    } finally {
      await connection.close();
    }
    await expect(connection.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
  });

  it('fails clearly and without leaking credentials against a closed port', async () => {
    const port = await closedPort();
    const connection = new MongoConnection({
      url: `mongodb://svc-user:very-secret-pw@127.0.0.1:${port}/?authSource=admin`,
      database: 'mandate_unreachable',
      serverSelectionTimeoutMs: 300,
    });
    try {
      const pingError = await connection.ping().catch((error: unknown) => error);
      expect(pingError).toBeInstanceOf(StorageUnavailableError);
      const message = (pingError as Error).message;
      expect(message).toContain(
        `cannot ping MongoDB at mongodb://***@127.0.0.1:${port}/?authSource=admin`,
      );
      expect(message).toMatch(/ECONNREFUSED|Server selection timed out/);
      expect(message).not.toMatch(/very-secret-pw|svc-user/);
      expect(connection.redactedUrl).toBe(`mongodb://***@127.0.0.1:${port}/?authSource=admin`);

      const connectError = await connection.connect().catch((error: unknown) => error);
      expect(connectError).toBeInstanceOf(StorageUnavailableError);
      expect((connectError as Error).message).not.toContain('very-secret-pw');
    } finally {
      await connection.close();
    }
  });
});
