/**
 * Signed tree heads for the audit ledger: C2SP signed notes (Ed25519) and C2SP tlog-checkpoint
 * bodies. Plain TypeScript over node:crypto; compatible with golang.org/x/mod/sumdb/note.
 */
export * from './note';
export * from './checkpoint';
export { decodeBase64Strict } from './base64';
