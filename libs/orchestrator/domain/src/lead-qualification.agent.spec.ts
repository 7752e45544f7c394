import { ChangeType, CrmChangeEvent } from '@mandate/contracts';
import { proposeLeadQualification } from './lead-qualification.agent';
import { assessLead } from './offline-lead-model';

const event = (snapshot: Record<string, unknown>, overrides: Partial<CrmChangeEvent> = {}) =>
  CrmChangeEvent.fromPartial({
    eventId: 'evt-1',
    tenantId: 'acme',
    correlationId: 'corr-1',
    objectType: 'lead',
    recordId: 'lead-1',
    changeType: ChangeType.CHANGE_TYPE_CREATED,
    snapshot,
    ...overrides,
  });

describe('lead qualification agent (offline model)', () => {
  it('qualifies a senior, warm lead with buying intent', () => {
    const p = proposeLeadQualification(
      event({
        employees: 900,
        title: 'VP Sales',
        source: 'demo-request',
        notes: 'asked about pricing',
        email: 'a@corp.example',
      }),
    );
    expect(p?.action?.kind?.$case).toBe('qualifyLead');
    expect(p?.model?.offline).toBe(true);
    expect(p?.correlationId).toBe('corr-1');
  });

  it('proposes disqualification for a lead with no fit signal', () => {
    const p = proposeLeadQualification(
      event({ employees: 1, title: 'Student', source: 'web', email: 'x@gmail.com' }),
    );
    expect(p?.action?.kind?.$case).toBe('disqualifyLead');
  });

  it('is deterministic for a redelivered event (same ids, same idempotency key)', () => {
    const snapshot = { employees: 300, title: 'Director IT' };
    const a = proposeLeadQualification(event(snapshot), new Date(1));
    const b = proposeLeadQualification(event(snapshot), new Date(2));
    expect(a?.proposalId).toBe(b?.proposalId);
    expect(a?.idempotencyKey).toBe(b?.idempotencyKey);
  });

  it('never puts the email address or name into the rationale', () => {
    const p = proposeLeadQualification(
      event({ name: 'Dana Whitfield', email: 'dana@gmail.com', notes: 'demo please' }),
    );
    expect(p?.rationale).not.toMatch(/dana/i);
  });

  it('ignores changes it does not handle', () => {
    expect(proposeLeadQualification(event({}, { objectType: 'case' }))).toBeUndefined();
    expect(
      proposeLeadQualification(event({}, { changeType: ChangeType.CHANGE_TYPE_UPDATED })),
    ).toBeUndefined();
  });

  it('gives borderline leads low confidence', () => {
    expect(assessLead({ employees: 250, title: 'Director' }).confidence).toBeLessThan(
      assessLead({ employees: 1000, title: 'CTO', source: 'referral', notes: 'budget approved' })
        .confidence,
    );
  });
});
