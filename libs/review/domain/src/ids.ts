import { createHash } from 'node:crypto';

/** Deterministic UUID-shaped id (version 5 layout) from its parts: the same parts, the same id. */
export function uuidFrom(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part};`);
  const h = hash.digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
