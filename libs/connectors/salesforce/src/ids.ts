import { createHash } from 'node:crypto';

/**
 * Salesforce record ids: 15 case-sensitive alphanumerics, or 18 with the case-insensitive
 * checksum suffix. Anything else cannot name a record, so it is never put in a URL.
 */
const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

export function isSalesforceId(id: string): boolean {
  return SALESFORCE_ID.test(id);
}

const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The 18-character form of a 15-character id (the 3-character suffix encodes the case). */
export function toId18(id15: string): string {
  if (!/^[a-zA-Z0-9]{15}$/.test(id15)) throw new Error('not a 15-character Salesforce id');
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') flags |= 1 << i;
    }
    suffix += CHECKSUM_ALPHABET.charAt(flags);
  }
  return id15 + suffix;
}

/** Key prefixes Salesforce's ids start with, per object (the first three characters). */
export const KEY_PREFIXES: Readonly<Record<string, string>> = {
  Account: '001',
  Contact: '003',
  User: '005',
  Opportunity: '006',
  Lead: '00Q',
  Task: '00T',
  CaseComment: '00a',
  Case: '500',
};

/**
 * The canonical object type a record id belongs to, from its key prefix (only the standard
 * objects whose prefixes are fixed across orgs); undefined when unknown.
 */
export function sobjectOfId(id: string): string | undefined {
  const prefix = id.slice(0, 3);
  return Object.entries(KEY_PREFIXES).find(([, p]) => p === prefix)?.[0];
}

/**
 * The value stored in the external-id fields (`Mandate_Action__c.Idempotency_Key__c`,
 * `Task.Mandate_Idempotency_Key__c`) for an idempotency key: the key itself when it is short and
 * URL-safe (readable for operators), else `sha256-<hex>`. Deterministic, so every retry and
 * every restarted adapter maps a key to the same value.
 */
export function externalKey(idempotencyKey: string): string {
  if (/^[A-Za-z0-9_.:-]{1,255}$/.test(idempotencyKey)) return idempotencyKey;
  return `sha256-${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex')}`;
}
