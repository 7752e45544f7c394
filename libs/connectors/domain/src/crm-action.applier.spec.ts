import { ConnectorError } from '@mandate/connector-sdk';
import { planCrmChange } from './crm-action.applier';

function errorOf(fn: () => unknown): ConnectorError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConnectorError) return err;
    throw err;
  }
  throw new Error('expected a ConnectorError');
}

describe('planCrmChange', () => {
  const lead = { objectType: 'lead', fields: { status: 'New', employees: 40 } };

  it('qualifies a lead', () => {
    expect(
      planCrmChange(lead, { kind: { $case: 'qualifyLead', value: { score: 80, reason: 'fit' } } })
        .set,
    ).toMatchObject({ status: 'Qualified', score: 80 });
  });

  it('refuses an action on the wrong object type as a permanent error', () => {
    const err = errorOf(() =>
      planCrmChange(lead, {
        kind: { $case: 'closeCase', value: { resolutionCode: 'x', summary: '' } },
      }),
    );
    expect([err.kind, err.code]).toEqual(['permanent', 'WRONG_OBJECT_TYPE']);
  });

  it('refuses writes to protected fields', () => {
    const err = errorOf(() =>
      planCrmChange(lead, {
        kind: { $case: 'updateField', value: { field: 'id', value: 'x', previousValue: '' } },
      }),
    );
    expect([err.kind, err.code]).toEqual(['permanent', 'FIELD_NOT_WRITABLE']);
  });

  it('is a conflict when the field no longer holds the value the agent saw', () => {
    const err = errorOf(() =>
      planCrmChange(lead, {
        kind: {
          $case: 'updateField',
          value: { field: 'status', value: 'Working', previousValue: 'Nurture' },
        },
      }),
    );
    expect([err.kind, err.code]).toEqual(['conflict', 'VALUE_CHANGED']);
    expect(
      planCrmChange(lead, {
        kind: {
          $case: 'updateField',
          value: { field: 'status', value: 'Working', previousValue: 'New' },
        },
      }).set,
    ).toEqual({ status: 'Working' });
  });

  it('keeps a numeric field numeric', () => {
    expect(
      planCrmChange(lead, {
        kind: {
          $case: 'updateField',
          value: { field: 'employees', value: '55', previousValue: '40' },
        },
      }).set,
    ).toEqual({ employees: 55 });
  });

  it('detects a stage conflict instead of overwriting', () => {
    const opp = { objectType: 'opportunity', fields: { stage: 'negotiation' } };
    const err = errorOf(() =>
      planCrmChange(opp, {
        kind: {
          $case: 'moveOpportunityStage',
          value: { fromStage: 'discovery', toStage: 'proposal' },
        },
      }),
    );
    expect([err.kind, err.code]).toEqual(['conflict', 'STAGE_CONFLICT']);
  });

  it('refuses a discount out of range', () => {
    const opp = { objectType: 'opportunity', fields: {} };
    const err = errorOf(() =>
      planCrmChange(opp, {
        kind: {
          $case: 'applyDiscount',
          value: { discountPercent: 120, reason: '', listAmount: undefined },
        },
      }),
    );
    expect(err.code).toBe('INVALID_DISCOUNT');
  });
});
