import { defineCollection } from '@mandate/storage';
import type { CrmRecordDoc } from './embedded-crm';

export const CRM_RECORDS = defineCollection<CrmRecordDoc>({
  name: 'crm_records',
  indexes: [
    {
      name: 'by_modstamp',
      keys: { modstamp: 1 },
      why: 'The polling change feed reads records changed after a cursor, in modstamp order.',
    },
    {
      name: 'by_object_type',
      keys: { objectType: 1, id: 1 },
      why: 'FindRecords pages through the records of one object type in id order.',
    },
  ],
});

/** Where polling change feeds keep their position, one document per tenant and connector. */
export interface ChangeCursorDoc {
  id: string;
  cursor: string;
  updatedAt: Date;
}

export const CHANGE_CURSORS = defineCollection<ChangeCursorDoc>({
  name: 'connector_cursors',
  indexes: [],
});
