import { HttpException } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@mandate/platform';
import { PolicyUnavailableError, type AgentOversightPort } from '@mandate/review-domain';
import { AgentsController } from './agents.controller';

/** The agents routes' failure paths: clear statuses, and nothing reaches policy unchecked. */
const admin = { id: 'adm-1', roles: ['admin'], tenantId: 'acme' } as AuthenticatedPrincipal;
const reviewer = { id: 'rev-1', roles: ['reviewer'], tenantId: 'acme' } as AuthenticatedPrincipal;

async function statusOf(p: Promise<unknown>): Promise<[number, string]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HttpException) {
      const body = err.getResponse() as { message?: string };
      return [err.getStatus(), String(body.message ?? err.message)];
    }
    throw err;
  }
  throw new Error('the route answered');
}

function policy(fail?: Error) {
  const calls: string[] = [];
  const port: AgentOversightPort = {
    oversight: async () => {
      calls.push('oversight');
      if (fail) throw fail;
      return { tenantId: 'acme', asOf: '', riskBands: [], agents: [], killSwitches: [] };
    },
    setKillSwitch: async () => {
      calls.push('set');
      if (fail) throw fail;
      return { ok: false, status: 'forbidden', problem: 'not yours' };
    },
    clearKillSwitch: async () => {
      calls.push('clear');
      return { ok: false, status: 'invalid', problem: 'no such switch' };
    },
  };
  return { port, calls };
}

describe('AgentsController failure paths', () => {
  it('answers 503 when policy does not answer or none is configured', async () => {
    const down = policy(new PolicyUnavailableError('policy GetOversight failed: deadline'));
    expect(await statusOf(new AgentsController(down.port).list(admin, 'acme'))).toEqual([
      503,
      'policy GetOversight failed: deadline',
    ]);
    const [status, message] = await statusOf(new AgentsController(undefined).list(admin, 'acme'));
    expect(status).toBe(503);
    expect(message).toMatch(/no policy oversight configured/);
  });

  it("maps policy's refusals to 403 and 400 with policy's reason", async () => {
    const { port } = policy();
    const c = new AgentsController(port);
    const body = { scope: 'agent', agentId: 'deal-desk', mode: 'deny', reason: 'incident' };
    expect(await statusOf(c.engage(admin, 'acme', body))).toEqual([403, 'not yours']);
    expect(await statusOf(c.release(admin, 'acme', body))).toEqual([400, 'no such switch']);
  });

  it('refuses non-admins, other tenants and malformed switches before asking policy', async () => {
    const { port, calls } = policy();
    const c = new AgentsController(port);
    const ok = { scope: 'agent', agentId: 'deal-desk', mode: 'deny', reason: 'incident' };
    expect((await statusOf(c.engage(reviewer, 'acme', ok)))[0]).toBe(403);
    expect((await statusOf(c.engage(admin, 'globex', ok)))[0]).toBe(403);
    for (const bad of [
      { ...ok, scope: 'global' },
      { ...ok, mode: 'pause' },
      { ...ok, reason: ' ' },
      { ...ok, agentId: undefined },
      [ok],
    ])
      expect((await statusOf(c.engage(admin, 'acme', bad)))[0]).toBe(400);
    expect(calls).toEqual([]);
  });
});
