import { StorageUnavailableError } from '@mandate/storage';
import { MongoClient } from 'mongodb';
import type { Collection, Db, Document } from 'mongodb';
import { KeyedMutex } from './keyed-mutex';
import { redactMongoUrl, scrubCredentials } from './mongo-url';

export interface MongoServerInfo {
  /** FerretDB answers `buildInfo` with a `ferretdbVersion` field. */
  readonly product: 'mongodb' | 'ferretdb';
  /** The MongoDB version the server reports (FerretDB reports the one it emulates). */
  readonly version: string;
  readonly ferretdbVersion?: string;
}

export interface MongoConnectionConfig {
  /** `mongodb://` or `mongodb+srv://` URL; may carry credentials (never logged). */
  readonly url: string;
  readonly database: string;
  /** Shown in server logs and `currentOp`; defaults to `mandate`. */
  readonly appName?: string;
  /** How long an operation waits for a usable server before failing (default 5000 ms). */
  readonly serverSelectionTimeoutMs?: number;
}

/**
 * One MongoDB client and database for a process. Only features that both MongoDB and
 * FerretDB 1.24 support are used on top of it (see README).
 */
export class MongoConnection {
  /** The URL with credentials masked: the only form of it that may be logged. */
  readonly redactedUrl: string;
  readonly database: string;
  /**
   * Serializes writes to one document within this process. FerretDB 1.24 (SQLite) applies an
   * update as read-then-write, so two concurrent writers to one document can both succeed
   * (lost update, double compare-and-set win); see README. Shared by every store on this
   * connection so two store instances of one collection also queue behind each other.
   */
  readonly documentLocks = new KeyedMutex();
  private readonly client: MongoClient;
  private closed = false;

  constructor(private readonly config: MongoConnectionConfig) {
    if (!config.database || /[/\\. "$]/.test(config.database)) {
      throw new TypeError(
        'MongoConnection: database must be a non-empty name without / \\ . " $ or spaces',
      );
    }
    this.redactedUrl = redactMongoUrl(config.url);
    this.database = config.database;
    try {
      this.client = new MongoClient(config.url, {
        appName: config.appName ?? 'mandate',
        serverSelectionTimeoutMS: config.serverSelectionTimeoutMs ?? 5000,
        // Undefined fields are dropped, not stored as null: the same as the in-memory store.
        ignoreUndefined: true,
      });
    } catch (error) {
      // A parse error may quote the URL; rethrow without it.
      throw new TypeError(`MongoConnection: invalid url ${this.redactedUrl}: ${this.scrub(error)}`);
    }
  }

  /** Connects eagerly so a wrong address fails at start-up; throws `StorageUnavailableError`. */
  async connect(): Promise<this> {
    try {
      await this.client.connect();
    } catch (error) {
      throw this.unavailable('connect to', error);
    }
    return this;
  }

  /** Readiness: resolves when the server answers `ping`, throws `StorageUnavailableError` otherwise. */
  async ping(): Promise<void> {
    if (this.closed)
      throw new StorageUnavailableError(`MongoDB connection to ${this.redactedUrl} is closed`);
    try {
      await this.client.db(this.database).command({ ping: 1 });
    } catch (error) {
      throw this.unavailable('ping', error);
    }
  }

  /** Which server this is; used to report the backend, never to change semantics. */
  async serverInfo(): Promise<MongoServerInfo> {
    const info = await this.client.db('admin').command({ buildInfo: 1 });
    const ferretdbVersion =
      typeof info['ferretdbVersion'] === 'string' ? info['ferretdbVersion'] : undefined;
    return {
      product: ferretdbVersion ? 'ferretdb' : 'mongodb',
      version: String(info['version']),
      ...(ferretdbVersion ? { ferretdbVersion } : {}),
    };
  }

  db(): Db {
    return this.client.db(this.database);
  }

  collection<T extends Document = Document>(name: string): Collection<T> {
    return this.client.db(this.database).collection<T>(name);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.close();
  }

  private unavailable(action: string, error: unknown): StorageUnavailableError {
    return new StorageUnavailableError(
      `cannot ${action} MongoDB at ${this.redactedUrl} (database ${this.database}): ${this.scrub(error)}`,
    );
  }

  private scrub(error: unknown): string {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return scrubCredentials(message, this.config.url);
  }
}
