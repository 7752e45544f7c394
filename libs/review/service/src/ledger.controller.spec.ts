import { HttpException } from '@nestjs/common';
import type { AuthenticatedPrincipal } from '@mandate/platform';
import type { ReviewContext } from '@mandate/review-domain';
import { LedgerUnavailableError, type LedgerChainPort } from './ledger-chain';
import { LedgerViewController } from './ledger.controller';

/** The ledger routes' failure paths: each a clear status and message, nothing half-answered. */
const reviewer = { id: 'rev-1', roles: ['reviewer'], tenantId: 'acme' } as AuthenticatedPrincipal;
const ctx = {} as ReviewContext;

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

describe('LedgerViewController failure paths', () => {
  it('answers 503 naming the ledger when it does not answer', async () => {
    const down: LedgerChainPort = {
      causalChain: async () => {
        throw new LedgerUnavailableError('ledger GetCausalChain failed: connect ECONNREFUSED');
      },
      byCorrelation: async () => [],
    };
    const c = new LedgerViewController(ctx, down, [], 'mandate/ledger');
    const [status, message] = await statusOf(c.chain(reviewer, 'acme', 'corr-1'));
    expect(status).toBe(503);
    expect(message).toContain('ECONNREFUSED');
  });

  it('answers 503 when no ledger is configured, and says which setting is missing', async () => {
    const c = new LedgerViewController(ctx, undefined, [], undefined);
    const [status, message] = await statusOf(c.chain(reviewer, 'acme', 'corr-1'));
    expect(status).toBe(503);
    expect(message).toContain('LEDGER_GRPC_ADDRESS');
    expect(c.config()).toEqual({ ledger: { available: false, verifierKeys: [] } });
  });

  it('answers 400 for a malformed or ambiguous query, 403 for another tenant, before asking the ledger', async () => {
    let asked = 0;
    const ledger: LedgerChainPort = {
      causalChain: async () => {
        asked++;
        return { entries: [], checkpoint: undefined };
      },
      byCorrelation: async () => [],
    };
    const c = new LedgerViewController(ctx, ledger, [], undefined);
    expect((await statusOf(c.chain(reviewer, 'acme')))[0]).toBe(400);
    expect((await statusOf(c.chain(reviewer, 'acme', 'a b')))[0]).toBe(400);
    expect((await statusOf(c.chain(reviewer, 'acme', 'x', 'lead', 'l-1')))[0]).toBe(400);
    expect((await statusOf(c.chain(reviewer, 'globex', 'corr-1')))[0]).toBe(403);
    expect(asked).toBe(0);
    await expect(c.chain(reviewer, 'acme', undefined, 'lead', 'l-1')).resolves.toEqual({
      checkpoint: null,
      entries: [],
      pending: [],
    });
    expect(asked).toBe(1);
  });
});
