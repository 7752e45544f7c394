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

/**
 * Thrown by a handler that has settled a message for good but could not do what it asked (e.g.
 * an action the CRM refuses as invalid): the bus dead-letters it at once, with this message as
 * the reason, instead of retrying. The handler must have recorded its own outcome first.
 */
export class RejectedMessageError extends Error {
  override readonly name = 'RejectedMessageError';
}
