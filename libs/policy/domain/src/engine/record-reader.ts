import type { ActionProposal } from '@mandate/contracts';
import type { FactValue, RecordFacts } from './decision-input';

/** Reads a record's current fields from the system of record (the CRM, through its connector). */
export interface RecordReader {
  read(
    tenantId: string,
    objectType: string,
    recordId: string,
  ): Promise<Record<string, unknown> | undefined>;
}

export type FactsResult =
  | { facts: RecordFacts }
  | { facts: undefined; reason: 'RECORD_NOT_FOUND' | 'FACTS_UNAVAILABLE'; detail: string };

/**
 * Facts for a proposal's target, read from the CRM — never from the proposal, which the agent
 * wrote. A record that cannot be read yields no facts, and the engine denies (fail closed).
 */
export async function readFacts(
  reader: RecordReader,
  proposal: ActionProposal,
): Promise<FactsResult> {
  const target = proposal.target;
  if (!target?.objectType || !target.recordId)
    return { facts: undefined, reason: 'FACTS_UNAVAILABLE', detail: 'proposal has no target' };
  let fields: Record<string, unknown> | undefined;
  try {
    fields = await reader.read(proposal.tenantId, target.objectType, target.recordId);
  } catch (err) {
    return {
      facts: undefined,
      reason: 'FACTS_UNAVAILABLE',
      detail: `CRM read failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (!fields)
    return {
      facts: undefined,
      reason: 'RECORD_NOT_FOUND',
      detail: `${target.objectType} ${target.recordId} not found`,
    };
  const attributes: Record<string, FactValue> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v))
    )
      attributes[k] = v;
  }
  return {
    facts: {
      objectType: target.objectType,
      recordId: target.recordId,
      tenantId: proposal.tenantId,
      attributes,
    },
  };
}
