import { BadRequestException, ForbiddenException } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@mandate/platform';
import { readable, writable } from './access';

const principal = (roles: string[], tenantId?: string): AuthenticatedPrincipal => ({
  id: `p-${roles.join('-') || 'none'}-${tenantId ?? 'none'}`,
  roles,
  ...(tenantId ? { tenantId } : {}),
});

describe('readable: tenant isolation of every review route', () => {
  it('lets any principal read its own tenant, whatever its roles', () => {
    for (const roles of [['reviewer'], ['supervisor'], ['auditor'], ['admin'], []])
      expect(readable(principal(roles, 'acme'), 'acme')).toBe('acme');
  });

  it("refuses another tenant's principal, an admin of another tenant included", () => {
    for (const roles of [['reviewer'], ['admin'], ['admin', 'supervisor']])
      expect(() => readable(principal(roles, 'globex'), 'acme')).toThrow(ForbiddenException);
  });

  it('refuses a principal with no tenant, an admin included: nobody reads across tenants', () => {
    for (const roles of [['admin'], ['admin', 'auditor'], ['reviewer'], []])
      for (const tenant of ['acme', 'globex'])
        expect(() => readable(principal(roles), tenant)).toThrow(
          new ForbiddenException(`${principal(roles).id} has no access to tenant ${tenant}`),
        );
  });

  it('answers a malformed tenant id with 400 before anything else', () => {
    expect(() => readable(principal(['admin'], 'acme'), 'Not A Tenant')).toThrow(
      BadRequestException,
    );
  });
});

describe('writable', () => {
  it('allows the own tenant only, never an auditor', () => {
    expect(writable(principal(['reviewer'], 'acme'), 'acme', 'decide')).toBe('acme');
    expect(() => writable(principal(['admin']), 'acme', 'decide')).toThrow(ForbiddenException);
    expect(() => writable(principal(['auditor'], 'acme'), 'acme', 'decide')).toThrow(
      /auditors may read but not decide/,
    );
  });
});
