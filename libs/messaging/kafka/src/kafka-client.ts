import { silentLogger, type BusLogger } from '@mandate/messaging';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type logCreator } from 'kafkajs';

/** Connection settings shared by the bus and the topic admin. ssl and sasl pass through to kafkajs. */
export interface KafkaConnectionConfig {
  brokers: string[];
  clientId: string;
  ssl?: KafkaConfig['ssl'];
  sasl?: KafkaConfig['sasl'];
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Receives the bus's and kafkajs's logs; silent by default. */
  logger?: BusLogger;
  /** Lowest kafkajs level forwarded to `logger`; default `warn`. */
  kafkaLogLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
}

const LEVELS = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
} as const;

/** Routes kafkajs's log entries into a BusLogger instead of kafkajs's console output. */
export function kafkaLogCreator(logger: BusLogger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      // kafkajs adds its own timestamp and logger name; the host logger has both already.
      const { message, timestamp: _timestamp, logger: _logger, ...context } = log;
      const ctx = { namespace, ...context };
      if (level === logLevel.ERROR) logger.error(message, ctx);
      else if (level === logLevel.WARN) logger.warn(message, ctx);
      else if (level === logLevel.INFO) logger.info(message, ctx);
      else logger.debug(message, ctx);
    };
}

export function createKafkaClient(config: KafkaConnectionConfig): Kafka {
  if (!config.brokers.length) throw new Error('kafka: at least one broker is required');
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: config.sasl,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: LEVELS[config.kafkaLogLevel ?? 'warn'],
    logCreator: kafkaLogCreator(config.logger ?? silentLogger),
  });
}
