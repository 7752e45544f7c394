import { InvalidTenantIdError } from './storage.errors';
import { isTenantId, tenantId } from './tenant-id';

describe('tenantId', () => {
  it.each(['a', 'acme', 'acme-eu_1', '0tenant', 'a'.repeat(63)])('accepts %s', (value) => {
    expect(tenantId(value)).toBe(value);
    expect(isTenantId(value)).toBe(true);
  });

  it.each(['', 'Acme', '-acme', '_acme', 'acme:eu', 'acme eu', 'a'.repeat(64), 'acmé'])(
    'rejects %j',
    (value) => {
      expect(() => tenantId(value)).toThrow(InvalidTenantIdError);
      expect(isTenantId(value)).toBe(false);
    },
  );

  it('does not echo the rejected value in the error', () => {
    expect(() => tenantId('Secret Customer Name')).toThrow(/^(?!.*Secret).*$/);
  });
});
