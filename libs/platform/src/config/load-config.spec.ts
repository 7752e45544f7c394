import { z } from 'zod';
import { ConfigError, env, loadConfig } from './load-config';

const schema = z.object({
  KAFKA_BROKERS: env.brokers(),
  MONGO_URL: env.mongoUrl(),
  HTTP_PORT: env.port(8080),
  API_SECRET: z.string().min(32),
});

describe('loadConfig', () => {
  it('returns typed values with defaults', () => {
    const cfg = loadConfig('svc', schema, {
      KAFKA_BROKERS: 'a:9092, b:9093',
      API_SECRET: 'x'.repeat(32),
    });
    expect(cfg).toEqual({
      KAFKA_BROKERS: ['a:9092', 'b:9093'],
      MONGO_URL: 'mongodb://127.0.0.1:27017',
      HTTP_PORT: 8080,
      API_SECRET: 'x'.repeat(32),
    });
  });

  it('reports every bad variable at once, by name', () => {
    try {
      loadConfig('svc', schema, {
        KAFKA_BROKERS: 'nope',
        HTTP_PORT: '99999',
        MONGO_URL: 'postgres://x',
      });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as ConfigError).message;
      expect(msg).toMatch(/invalid configuration for svc/);
      expect(msg).toMatch(
        /KAFKA_BROKERS: must be a comma-separated list of host:port \(got "nope"\)/,
      );
      expect(msg).toMatch(/HTTP_PORT/);
      expect(msg).toMatch(/MONGO_URL/);
      expect(msg).toMatch(/API_SECRET: .*\(unset\)/);
    }
  });

  it('never echoes secrets or URL credentials in its message', () => {
    const s = z.object({
      MONGO_URL: z
        .string()
        .url()
        .refine(() => false, 'rejected'),
      API_SECRET: z.string().min(99),
    });
    try {
      loadConfig('svc', s, {
        MONGO_URL: 'mongodb://admin:hunter2@db:27017',
        API_SECRET: 'topsecretvalue',
      });
      throw new Error('expected a ConfigError');
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).not.toContain('hunter2');
      expect(msg).not.toContain('topsecretvalue');
      expect(msg).toContain('admin:***@db');
    }
  });
});
