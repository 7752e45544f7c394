import { defineCollection, physicalIndexes } from './index-spec';
import { InvalidStorageRequestError } from './storage.errors';

interface Lead {
  id: string;
  email: string;
  stage: string;
  touchedAt: Date;
}

describe('index specs', () => {
  it('prefixes the tenant on every declared index and keeps TTL indexes single-field', () => {
    const leads = defineCollection<Lead>({
      name: 'leads',
      indexes: [
        {
          name: 'email_unique',
          keys: { email: 1 },
          unique: true,
          why: 'One lead per e-mail address per tenant.',
        },
        {
          name: 'stage_touched',
          keys: { stage: 1, touchedAt: -1 },
          why: 'Pipeline lists leads of a stage, newest first.',
        },
        {
          name: 'touched_ttl',
          keys: { touchedAt: 1 },
          ttlSeconds: 3600,
          why: 'Untouched leads expire after an hour.',
        },
      ],
    });
    const built = physicalIndexes(leads.indexes);
    expect(built.map((i) => [i.name, i.keys, i.unique])).toEqual([
      ['tenant_id', { _tid: 1, id: 1 }, false],
      ['outbox_pending', { _pending: 1, _id: 1 }, false],
      ['email_unique', { _tid: 1, email: 1 }, true],
      ['stage_touched', { _tid: 1, stage: 1, touchedAt: -1 }, false],
      ['touched_ttl', { touchedAt: 1 }, false],
    ]);
    expect(Object.keys(built[3]!.keys)).toEqual(['_tid', 'stage', 'touchedAt']);
    expect(built[4]!.ttl).toEqual({ field: 'touchedAt', seconds: 3600 });
  });

  it.each([
    ['a missing why', { name: 'x', keys: { email: 1 }, why: '' }],
    ['a bad name', { name: 'Email-Index', keys: { email: 1 }, why: 'because we query it' }],
    ['a reserved name', { name: 'tenant_id', keys: { email: 1 }, why: 'because we query it' }],
    ['no keys', { name: 'x', keys: {}, why: 'because we query it' }],
    ['a store field', { name: 'x', keys: { _tid: 1 }, why: 'because we query it' }],
    ['a bad direction', { name: 'x', keys: { email: 2 }, why: 'because we query it' }],
    [
      'a compound TTL',
      { name: 'x', keys: { email: 1, touchedAt: 1 }, ttlSeconds: 5, why: 'because we query it' },
    ],
    [
      'a unique TTL',
      {
        name: 'x',
        keys: { touchedAt: 1 },
        ttlSeconds: 5,
        unique: true,
        why: 'because we query it',
      },
    ],
  ])('refuses %s', (_label, spec) => {
    expect(() => defineCollection<Lead>({ name: 'leads', indexes: [spec as never] })).toThrow(
      InvalidStorageRequestError,
    );
  });

  it('refuses the same index name twice', () => {
    const spec = { name: 'dup', keys: { email: 1 as const }, why: 'because we query it' };
    expect(() => defineCollection<Lead>({ name: 'leads', indexes: [spec, spec] })).toThrow(
      InvalidStorageRequestError,
    );
  });
});
