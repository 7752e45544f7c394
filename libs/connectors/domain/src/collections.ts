import { defineCollection } from '@mandate/storage';
import type { CrmRecordDoc, ExecutionDoc } from './action-executor';

export const CRM_RECORDS = defineCollection<CrmRecordDoc>({ name: 'crm_records', indexes: [] });

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
