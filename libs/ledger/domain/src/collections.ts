import { defineCollection } from '@mandate/storage';
import type { LeafDoc } from './ledger.appender';

export const LEDGER_LEAVES = defineCollection<LeafDoc>({
  name: 'ledger_leaves',
  indexes: [
    {
      name: 'record_once',
      keys: { recordId: 1 },
      unique: true,
      why: 'Appends are idempotent by record id: a redelivered record never becomes a second leaf.',
    },
    {
      name: 'by_index',
      keys: { index: -1 },
      unique: true,
      why: 'The appender reads the last leaf to assign the next index; one leaf per index.',
    },
    {
      name: 'by_correlation',
      keys: { correlationId: 1, index: 1 },
      why: 'Explainability: the causal chain of one correlation id in log order.',
    },
  ],
});
