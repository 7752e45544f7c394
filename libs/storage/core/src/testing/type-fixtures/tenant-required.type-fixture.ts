/*
 * Type-level proof that the storage port cannot be called without a tenant. Checked twice:
 * by the repo typecheck (`tsc -p tsconfig.json`: every @ts-expect-error must be needed) and by
 * tenant-required.type.spec.ts (with the markers removed, exactly the marked lines fail).
 * Never executed.
 */
import { tenantId } from '../../index';
import type { DocumentStore, TenantId } from '../../index';

interface Deal {
  id: string;
  name: string;
  amount: number;
  tags: string[];
}

export async function tenantRequiredFixture(
  store: DocumentStore<Deal>,
  rawTenant: string,
): Promise<void> {
  const tenant = tenantId('acme');
  await store.get(tenant, 'd1');
  await store.find(
    tenant,
    { amount: { $gt: 1 }, name: { $in: ['a'] } },
    { limit: 10, sort: { amount: -1 } },
  );
  await store.update(
    tenant,
    'd1',
    { set: { name: 'x' }, inc: { amount: 1 }, push: { tags: ['t'] } },
    { expectVersion: 1 },
  );
  await store.insertMany(tenant, [{ id: 'd2', name: 'y', amount: 2, tags: [] }], {
    outbox: [[{ topic: 't', key: 'k', payload: new Uint8Array() }]],
  });

  // @ts-expect-error get without a tenant
  await store.get('d1');
  // @ts-expect-error an unvalidated string is not a TenantId
  await store.get(rawTenant, 'd1');
  // @ts-expect-error find without a tenant
  await store.find({ name: 'x' });
  // @ts-expect-error count with a filter where the tenant goes
  await store.count({ name: 'x' });
  // @ts-expect-error insert without a tenant
  await store.insert({ id: 'd1', name: 'x', amount: 1, tags: [] });
  // @ts-expect-error insertMany without a tenant
  await store.insertMany([{ id: 'd1', name: 'x', amount: 1, tags: [] }]);
  // @ts-expect-error upsert without a tenant
  await store.upsert({ id: 'd1', name: 'x', amount: 1, tags: [] });
  // @ts-expect-error update without a tenant
  await store.update('d1', { set: { name: 'x' } });
  // @ts-expect-error delete without a tenant
  await store.delete('d1');
  // @ts-expect-error a string literal is not a TenantId either
  const literal: TenantId = 'acme';
  void literal;
  // @ts-expect-error filters name only the document's scalar fields
  await store.find(tenant, { nmae: 'x' });
  // @ts-expect-error filter operators are typed by field
  await store.find(tenant, { amount: { $gt: 'x' } });
  // @ts-expect-error arrays cannot be filtered on
  await store.find(tenant, { tags: ['x'] });
  // @ts-expect-error inc only on numeric fields
  await store.update(tenant, 'd1', { inc: { name: 1 } });
  // @ts-expect-error the managed version is not writable
  await store.update(tenant, 'd1', { set: { version: 3 } });
}
