import { defineCollection } from '@mandate/storage';

/**
 * The durable record of one idempotency key's execution: the at-most-once guard. Its id is the
 * idempotency key, so a second decision or a redelivery for the same key finds it.
 *
 * - `executing`: the key is claimed; the CRM call may or may not have happened (a crash here is
 *   completed by the redelivered decision; adapters with CRM-side idempotency make the retry
 *   safe, the others rely on this record and the claim order).
 * - `executed` / `failed`: finished; the outcome has been emitted with its audit record.
 * - `compensated`: an executed action was undone.
 * Refusals are recorded under `refused:<decision id>` so a forged token cannot block the genuine
 * decision for the same key.
 */
export interface ExecutionDoc {
  id: string;
  status: 'executing' | 'executed' | 'failed' | 'refused' | 'compensated';
  connector: string;
  proposalId: string;
  decisionId: string;
  /** Token that authorised the claim (its expiry is checked at claim time only). */
  tokenId: string;
  correlationId: string;
  objectType: string;
  recordId: string;
  actionType: string;
  /** The executed CrmAction, protobuf-encoded in base64 (compensation hands it back). */
  action: string;
  attempts: number;
  outcomeId?: string;
  errorKind?: string;
  errorCode?: string;
  /** JSON of the adapter's `undo` information, kept for compensation. */
  undo?: string;
  updatedAt: Date;
}

export const EXECUTIONS = defineCollection<ExecutionDoc>({
  name: 'executions',
  indexes: [
    {
      name: 'by_proposal',
      keys: { proposalId: 1 },
      why: 'Explainability and support look up the execution of a proposal by its id.',
    },
  ],
});

/**
 * Carriers of the executor's events (outcomes and their audit records): each document exists
 * only until the outbox relay has published its events, so the collection stays small and the
 * relay's reads stay cheap however many executions there are. Event ids are deterministic per
 * outcome, so an event emitted twice (a crash between emitting and recording) is deduplicated
 * by its consumers.
 */
export interface ExecutionEventDoc {
  id: string;
  at: Date;
}

export const EXECUTION_EVENTS = defineCollection<ExecutionEventDoc>({
  name: 'execution_events',
  indexes: [],
});
