import { ChangeType, CrmChangeEvent, ExecutionOutcome, ExecutionStatus } from '@mandate/contracts';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { PLANS } from './collections';
import { PlanRunner, type PlanDoc } from './plan.runner';

describe('PlanRunner outcomes', () => {
  const tenant = tenantId('acme');
  async function planned() {
    const store = new InMemoryDocumentStore<PlanDoc>(PLANS);
    const runner = new PlanRunner(store);
    const proposal = await runner.onCrmChange(
      CrmChangeEvent.fromPartial({
        eventId: 'e1',
        tenantId: tenant,
        correlationId: 'c1',
        sourceSystem: 'embedded',
        objectType: 'lead',
        recordId: 'lead-1',
        changeType: ChangeType.CHANGE_TYPE_CREATED,
        snapshot: {
          name: 'A',
          employees: 900,
          industry: 'logistics',
          source: 'demo-request',
          title: 'VP',
        },
        occurredAt: new Date().toISOString(),
      }),
    );
    expect(proposal).toBeDefined();
    const outcome = (status: ExecutionStatus) =>
      ExecutionOutcome.fromPartial({
        outcomeId: `o-${status}`,
        tenantId: tenant,
        correlationId: 'c1',
        proposalId: proposal!.proposalId,
        idempotencyKey: proposal!.idempotencyKey,
        status,
        target: proposal!.target,
      });
    const status = async () => (await store.find(tenant, {}))[0]?.status;
    return { runner, outcome, status };
  }

  it('ignores a suppressed duplicate and a compensation: they do not end the step', async () => {
    const { runner, outcome, status } = await planned();
    await runner.onOutcome(outcome(ExecutionStatus.EXECUTION_STATUS_DUPLICATE_SUPPRESSED));
    await runner.onOutcome(outcome(ExecutionStatus.EXECUTION_STATUS_COMPENSATED));
    expect(await status()).toBe('proposed');
    await runner.onOutcome(outcome(ExecutionStatus.EXECUTION_STATUS_EXECUTED));
    expect(await status()).toBe('executed');
  });

  it('ends the step as refused or failed', async () => {
    const a = await planned();
    await a.runner.onOutcome(a.outcome(ExecutionStatus.EXECUTION_STATUS_REFUSED));
    expect(await a.status()).toBe('refused');
    const b = await planned();
    await b.runner.onOutcome(b.outcome(ExecutionStatus.EXECUTION_STATUS_FAILED));
    expect(await b.status()).toBe('failed');
  });
});
