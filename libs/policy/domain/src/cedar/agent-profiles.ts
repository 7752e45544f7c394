import { Verdict, verdictFromJSON } from '@mandate/contracts';
import type { AgentProfile } from '../engine/decision-input';

/**
 * Reads agents.json: `{ "agents": [{ id, purpose, allowedFields, ceiling, tenants }] }` where
 * ceiling is a Verdict name ("VERDICT_AUTO", ...) and tenants may be ["*"] (every tenant).
 * Malformed entries are reported and left out, so the engine treats those agents as unknown.
 */
export function parseAgentProfiles(json: unknown): { agents: AgentProfile[]; problems: string[] } {
  const problems: string[] = [];
  const agents: AgentProfile[] = [];
  const list = isObject(json) ? json['agents'] : undefined;
  if (!Array.isArray(list)) {
    return { agents, problems: ['agents.json: expected { "agents": [...] }'] };
  }
  const seen = new Set<string>();
  list.forEach((entry: unknown, i) => {
    const where = `agents.json: agents[${i}]`;
    if (!isObject(entry)) return void problems.push(`${where}: not an object`);
    const { id, purpose, allowedFields, ceiling, tenants } = entry;
    const bad: string[] = [];
    if (typeof id !== 'string' || !id) bad.push('id');
    if (typeof purpose !== 'string' || !purpose) bad.push('purpose');
    if (!isStringArray(allowedFields)) bad.push('allowedFields');
    if (!isStringArray(tenants) || tenants.length === 0) bad.push('tenants');
    const verdict = typeof ceiling === 'string' ? verdictFromJSON(ceiling) : Verdict.UNRECOGNIZED;
    if (verdict === Verdict.UNRECOGNIZED || verdict === Verdict.VERDICT_UNSPECIFIED)
      bad.push('ceiling');
    if (bad.length) return void problems.push(`${where}: missing or invalid ${bad.join(', ')}`);
    if (seen.has(id as string)) return void problems.push(`${where}: duplicate id "${id}"`);
    seen.add(id as string);
    agents.push({
      id: id as string,
      purpose: purpose as string,
      allowedFields: [...(allowedFields as string[])],
      ceiling: verdict,
      tenants: [...(tenants as string[])],
    });
  });
  return { agents, problems };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}
