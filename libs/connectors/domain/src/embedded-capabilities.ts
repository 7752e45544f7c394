import { DataClassification, GetCapabilitiesResponse } from '@mandate/contracts';

const C = DataClassification;
const field = (name: string, classification: DataClassification) => ({ name, classification });

/** What the embedded CRM offers: objects, fields with their data classification, actions. */
export const EMBEDDED_CAPABILITIES = GetCapabilitiesResponse.fromPartial({
  connector: 'embedded',
  objects: [
    {
      objectType: 'lead',
      fields: [
        field('name', C.DATA_CLASSIFICATION_PERSONAL),
        field('email', C.DATA_CLASSIFICATION_PERSONAL),
        field('company', C.DATA_CLASSIFICATION_INTERNAL),
        field('title', C.DATA_CLASSIFICATION_INTERNAL),
        field('employees', C.DATA_CLASSIFICATION_PUBLIC),
        field('industry', C.DATA_CLASSIFICATION_PUBLIC),
        field('source', C.DATA_CLASSIFICATION_INTERNAL),
        field('notes', C.DATA_CLASSIFICATION_CONFIDENTIAL),
        field('status', C.DATA_CLASSIFICATION_INTERNAL),
        field('score', C.DATA_CLASSIFICATION_INTERNAL),
        field('ownerId', C.DATA_CLASSIFICATION_INTERNAL),
      ],
    },
    {
      objectType: 'opportunity',
      fields: [
        field('stage', C.DATA_CLASSIFICATION_INTERNAL),
        field('amount', C.DATA_CLASSIFICATION_CONFIDENTIAL),
        field('discountPercent', C.DATA_CLASSIFICATION_CONFIDENTIAL),
      ],
    },
    {
      objectType: 'case',
      fields: [
        field('subject', C.DATA_CLASSIFICATION_INTERNAL),
        field('status', C.DATA_CLASSIFICATION_INTERNAL),
        field('description', C.DATA_CLASSIFICATION_CONFIDENTIAL),
      ],
    },
  ],
  supportedActions: [
    'update_field',
    'qualify_lead',
    'disqualify_lead',
    'assign_owner',
    'create_task',
    'send_email',
    'apply_discount',
    'move_opportunity_stage',
    'reply_to_case',
    'close_case',
  ],
});
