import { StorageUnavailableError } from '@mandate/storage';
import {
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';

/**
 * A unique index refused the write. MongoDB (and FerretDB on insert/upsert) answer with code
 * 11000; FerretDB 1.24 on SQLite answers an *update* that breaks a unique index with code 1
 * (InternalError) and SQLite's "UNIQUE constraint failed" text instead (see README).
 */
export function isDuplicateKeyError(error: unknown): error is MongoError {
  if (!(error instanceof MongoError)) return false;
  return isDuplicateKeyCode(error.code, error.message);
}

/** The same test on the parts of an error (e.g. one `writeErrors` item of a bulk write). */
export function isDuplicateKeyCode(code: unknown, message: string | undefined): boolean {
  return code === 11000 || (code === 1 && /UNIQUE constraint failed/.test(message ?? ''));
}

/** The index named by the server's error, when it names one (MongoDB does, FerretDB not always). */
export function indexNameFromError(
  error: MongoError,
  known: readonly string[],
): string | undefined {
  const mongo = /index: (\S+) dup key/.exec(error.message);
  if (mongo) return mongo[1] === '_id_' ? 'primary' : mongo[1];
  // FerretDB/SQLite: "UNIQUE constraint failed: index '<table>_<hash>_<name>'".
  const sqlite = /UNIQUE constraint failed: index '([^']+)'/.exec(error.message);
  if (sqlite) {
    const physical = sqlite[1] ?? '';
    return [...known]
      .sort((a, b) => b.length - a.length)
      .find((name) => physical.endsWith(`_${name}`));
  }
  return undefined;
}

export function isUnavailableError(error: unknown): boolean {
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  );
}

/** Turns "could not reach the database" into the port's retryable error; everything else passes. */
export function mapDriverError(error: unknown, collection: string): unknown {
  if (isUnavailableError(error)) {
    return new StorageUnavailableError(
      `MongoDB unavailable for ${collection}: ${(error as Error).name}`,
    );
  }
  return error;
}
