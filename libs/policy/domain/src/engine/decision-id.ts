import { createHash } from 'node:crypto';
import type { ActionProposal } from '@mandate/contracts';

/**
 * The id of the first decision on a proposal: derived from it, so a redelivered proposal is
 * decided under the same id however often it arrives (and by every replica).
 */
export function decisionIdFor(p: Pick<ActionProposal, 'tenantId' | 'proposalId'>): string {
  return createHash('sha256')
    .update(`decision/${p.tenantId}/${p.proposalId}`)
    .digest('hex')
    .slice(0, 32);
}
