/** Who asks to change a kill switch or reset a breaker (authenticated upstream). */
export interface Principal {
  readonly id: string;
  readonly roles: readonly string[];
  /** The tenant a tenant-bound role (supervisor) belongs to. */
  readonly tenantId?: string;
}

/** What a control action applies to. `global` has no ids; the others narrow down. */
export interface ControlTarget {
  readonly scope: 'global' | 'tenant' | 'agent' | 'action';
  readonly tenantId?: string;
  readonly agentId?: string;
  readonly actionType?: string;
}

export const POLICY_ADMIN_ROLE = 'policy-admin';
export const SUPERVISOR_ROLE = 'supervisor';

export interface Authorizer {
  /** May `principal` set, clear or reset controls on `target`? */
  canControl(principal: Principal, target: ControlTarget): boolean;
}

/**
 * `policy-admin` controls everything. A `supervisor` controls what is confined to their own
 * tenant (the tenant switch, and agent/action switches and breakers pinned to that tenant),
 * never a global switch or one spanning tenants. Everyone else: nothing.
 */
export class RoleAuthorizer implements Authorizer {
  canControl(principal: Principal, target: ControlTarget): boolean {
    if (!principal || typeof principal.id !== 'string' || principal.id === '') return false;
    const roles = Array.isArray(principal.roles) ? principal.roles : [];
    if (roles.includes(POLICY_ADMIN_ROLE)) return true;
    return (
      roles.includes(SUPERVISOR_ROLE) &&
      target.scope !== 'global' &&
      !!principal.tenantId &&
      target.tenantId === principal.tenantId
    );
  }
}
