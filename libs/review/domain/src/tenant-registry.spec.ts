import { InMemoryDocumentStore, MAX_FIND_LIMIT, tenantId } from '@mandate/storage';
import { Verdict } from '@mandate/contracts';
import { REVIEW_TASKS, REVIEW_TENANTS, type ReviewTenantDoc } from './collections';
import type { ReviewTaskDoc } from './review-task.doc';
import { ReviewTaskOpener } from './review-task.opener';
import { REVIEW_TENANTS_SCOPE, ReviewTenantRegistry } from './tenant-registry';
import { decisionFor, GLOBEX } from './testing/fixtures';

describe('ReviewTenantRegistry (review_tenants)', () => {
  const newStore = () => new InMemoryDocumentStore<ReviewTenantDoc>(REVIEW_TENANTS);

  it('registers a tenant once, across calls and across replicas sharing the store', async () => {
    const store = newStore();
    const a = new ReviewTenantRegistry(store);
    const b = new ReviewTenantRegistry(store);
    await a.register(tenantId('acme'));
    await a.register(tenantId('acme'));
    await b.register(tenantId('acme')); // another replica: the duplicate is ignored
    await b.register(tenantId('globex'));
    expect(await store.count(REVIEW_TENANTS_SCOPE)).toBe(2);
    expect(await a.tenants()).toEqual(['acme', 'globex']);
    expect(await new ReviewTenantRegistry(store).tenants()).toEqual(['acme', 'globex']);
  });

  it('lists every tenant, past one page of the store', async () => {
    const store = newStore();
    const registry = new ReviewTenantRegistry(store);
    const ids = Array.from(
      { length: MAX_FIND_LIMIT + 5 },
      (_, i) => `t${String(i).padStart(5, '0')}`,
    );
    for (const id of ids) await registry.register(tenantId(id));
    expect(await registry.tenants()).toEqual(ids);
  });

  it('is filled by the task opener before the task is written, only when a task opens', async () => {
    const tenants = new ReviewTenantRegistry(newStore());
    const tasks = new InMemoryDocumentStore<ReviewTaskDoc>(REVIEW_TASKS);
    const opener = new ReviewTaskOpener({ noticeSampleRate: 0, tenants });
    // AUTO_WITH_NOTICE outside the sample: no task, no registration.
    expect(
      await opener.open(tasks, decisionFor('n-1', { verdict: Verdict.VERDICT_AUTO_WITH_NOTICE })),
    ).toBeUndefined();
    expect(await tenants.tenants()).toEqual([]);
    expect(await opener.open(tasks, decisionFor('g-1', { tenant: GLOBEX }))).toBeDefined();
    expect(await tenants.tenants()).toEqual([GLOBEX]);

    // A registry that cannot write: the task is not written either (the message is retried).
    const failing = new ReviewTaskOpener({
      noticeSampleRate: 0,
      tenants: {
        register: async () => {
          throw new Error('storage unavailable');
        },
      },
    });
    await expect(failing.open(tasks, decisionFor('a-1'))).rejects.toThrow('storage unavailable');
    expect(await tasks.get(tenantId('acme'), 'task-a-1')).toBeNull();
  });
});
