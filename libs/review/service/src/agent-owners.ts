import type { AgentOwnerLookup } from '@mandate/review-domain';
import { isTenantId, type TenantId } from '@mandate/storage';

/** An agent-owner configuration that cannot be used; the message names every problem. */
export class AgentOwnersConfigError extends Error {
  override readonly name = 'AgentOwnersConfigError';
}

/** The person accountable for one agent of one tenant (four-eyes never counts them as approver). */
export interface AgentOwner {
  readonly tenantId: string;
  readonly agentId: string;
  /** A person id as the reviewer directory and the tokens name them (`sub`). */
  readonly ownerId: string;
}

// The same alphabet as reviewer ids: the owner is compared with the approver's id.
const PERSON_ID = /^[A-Za-z0-9._@:-]{1,128}$/;
const AGENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const FIELDS = new Set(['tenantId', 'agentId', 'ownerId']);

/**
 * Parses and validates agent owners (`AGENT_OWNERS`): a JSON array of
 * `{tenantId, agentId, ownerId}`, at most one owner per tenant × agent. Every problem is reported
 * at once, by position (and tenant/agent where they are readable).
 */
export function parseAgentOwners(input: string | unknown): AgentOwner[] {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch {
      throw new AgentOwnersConfigError('agent owners: not valid JSON');
    }
  }
  if (!Array.isArray(raw)) throw new AgentOwnersConfigError('agent owners: expected a JSON array');
  const problems: string[] = [];
  const out: AgentOwner[] = [];
  const first = new Map<string, number>();
  raw.forEach((entry: unknown, i) => {
    const where = `agentOwners[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${where}: expected an object`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const { tenantId, agentId, ownerId } = e;
    const tenantOk = typeof tenantId === 'string' && isTenantId(tenantId);
    const agentOk = typeof agentId === 'string' && AGENT_ID.test(agentId);
    const label = tenantOk && agentOk ? `${where} (${tenantId}/${agentId})` : where;
    const before = problems.length;
    if (!tenantOk) problems.push(`${label}: tenantId must be a valid tenant id`);
    if (!agentOk) problems.push(`${label}: agentId must be 1-128 of A-Z a-z 0-9 . _ : -`);
    if (typeof ownerId !== 'string' || !PERSON_ID.test(ownerId))
      problems.push(`${label}: ownerId must be 1-128 of A-Z a-z 0-9 . _ @ : -`);
    for (const key of Object.keys(e))
      if (!FIELDS.has(key)) problems.push(`${label}: unknown field "${key}"`);
    if (tenantOk && agentOk) {
      const key = keyOf(tenantId, agentId);
      const earlier = first.get(key);
      if (earlier !== undefined)
        problems.push(`${label}: duplicate tenant and agent (agentOwners[${earlier}])`);
      else first.set(key, i);
    }
    if (problems.length > before) return;
    out.push({
      tenantId: tenantId as string,
      agentId: agentId as string,
      ownerId: ownerId as string,
    });
  });
  if (problems.length)
    throw new AgentOwnersConfigError(`invalid agent owners:\n- ${problems.join('\n- ')}`);
  return out;
}

/**
 * Agent owners from configuration (`AGENT_OWNERS`): the `AgentOwnerLookup` four-eyes uses to keep
 * an agent's owner from approving its actions. Per tenant: an agent of the same id in another
 * tenant has its own owner (or none).
 */
export class StaticAgentOwners implements AgentOwnerLookup {
  private readonly owners: ReadonlyMap<string, string>;

  /** Validates like `parseAgentOwners` (throws `AgentOwnersConfigError`). */
  constructor(owners: readonly AgentOwner[]) {
    this.owners = new Map(
      parseAgentOwners(owners).map((o) => [keyOf(o.tenantId, o.agentId), o.ownerId]),
    );
  }

  async ownerOf(agentId: string, tenant: TenantId): Promise<string | undefined> {
    return this.owners.get(keyOf(tenant, agentId));
  }

  /** How many agents have an owner (for the start-up log). */
  get size(): number {
    return this.owners.size;
  }
}

// Tenant ids cannot contain "/", so the key is unambiguous.
function keyOf(tenant: string, agentId: string): string {
  return `${tenant}/${agentId}`;
}
