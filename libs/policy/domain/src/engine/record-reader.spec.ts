import { ActionProposal } from '@mandate/contracts';
import { readFacts } from './record-reader';

const proposal = ActionProposal.fromPartial({
  tenantId: 'acme',
  target: { objectType: 'opportunity', recordId: 'o1' },
});

describe('readFacts', () => {
  it('keeps only scalar fields of the record, tagged with the proposal tenant', async () => {
    const result = await readFacts(
      {
        read: async () => ({
          amountMinor: 500,
          industry: 'software',
          notes: { nested: true },
          nan: Number.NaN,
        }),
      },
      proposal,
    );
    expect(result).toEqual({
      facts: {
        objectType: 'opportunity',
        recordId: 'o1',
        tenantId: 'acme',
        attributes: { amountMinor: 500, industry: 'software' },
      },
    });
  });

  it('yields no facts (so the engine denies) when the record is missing', async () => {
    expect(await readFacts({ read: async () => undefined }, proposal)).toMatchObject({
      facts: undefined,
      reason: 'RECORD_NOT_FOUND',
    });
  });

  it('yields no facts, with the cause, when the CRM cannot be read', async () => {
    const result = await readFacts(
      { read: async () => Promise.reject(new Error('deadline exceeded')) },
      proposal,
    );
    expect(result).toMatchObject({ facts: undefined, reason: 'FACTS_UNAVAILABLE' });
    expect('detail' in result && result.detail).toMatch(/deadline exceeded/);
  });

  it('yields no facts for a proposal without a target', async () => {
    expect(
      await readFacts({ read: async () => ({}) }, { ...proposal, target: undefined }),
    ).toMatchObject({
      facts: undefined,
      reason: 'FACTS_UNAVAILABLE',
    });
  });
});
