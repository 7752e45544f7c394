import type { BusLogger } from '@mandate/messaging';
import { logLevel } from 'kafkajs';
import { kafkaLogCreator } from './kafka-client';

describe('kafkaLogCreator', () => {
  it('forwards kafkajs entries at their level, without kafkajs own timestamp and logger name', () => {
    const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
    const record = (level: string) => (message: string, ctx?: Record<string, unknown>) =>
      void lines.push([level, message, ctx]);
    const logger: BusLogger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const log = kafkaLogCreator(logger)(logLevel.INFO);
    const entry = (level: logLevel, message: string) => ({
      namespace: 'Consumer',
      level,
      label: 'X',
      log: { message, timestamp: 'ts', logger: 'kafkajs', groupId: 'g' },
    });

    log(entry(logLevel.ERROR, 'crash'));
    log(entry(logLevel.WARN, 'slow'));
    log(entry(logLevel.INFO, 'joined'));
    log(entry(logLevel.DEBUG, 'fetch'));

    expect(lines).toEqual([
      ['error', 'crash', { namespace: 'Consumer', groupId: 'g' }],
      ['warn', 'slow', { namespace: 'Consumer', groupId: 'g' }],
      ['info', 'joined', { namespace: 'Consumer', groupId: 'g' }],
      ['debug', 'fetch', { namespace: 'Consumer', groupId: 'g' }],
    ]);
  });
});
