/** A caller used the bus wrongly (not started, invalid metadata, key outside the tenant). */
export class EventBusError extends Error {
  override readonly name = 'EventBusError';
}

/**
 * A consumed message cannot be turned into an envelope (missing CloudEvents headers, wrong type,
 * undecodable payload). The bus dead-letters it at once: retrying cannot fix it.
 */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}
