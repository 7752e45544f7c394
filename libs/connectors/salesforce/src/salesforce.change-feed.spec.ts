import type { ChangePage } from '@mandate/connector-sdk';
import { changeQuery, decodeCursor, encodeCursor, mergeByStamp } from './change-cursor';
import {
  RECIPIENT_CONTACT_ID,
  salesforceHarness,
  type SalesforceHarness,
  type SalesforceHarnessOptions,
} from './testing';

const ctx = { attempt: 1 };
const open: SalesforceHarness[] = [];

async function harness(options: SalesforceHarnessOptions = {}): Promise<SalesforceHarness> {
  const h = await salesforceHarness(options);
  open.push(h);
  return h;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** Polls from `cursor` with pages of `limit` until the feed says it has nothing more. */
async function drain(h: SalesforceHarness, cursor: string | undefined, limit: number) {
  const pages: ChangePage[] = [];
  for (let i = 0; i < 100; i++) {
    // A restarted adapter on every page: nothing but the cursor carries over.
    const adapter = i % 2 ? await h.restartAdapter() : h.adapter;
    const page = await adapter.pollChanges(h.tenantId, cursor, limit, ctx);
    pages.push(page);
    expect(page.changes.length).toBeLessThanOrEqual(limit);
    cursor = page.nextCursor;
    if (!page.hasMore) break;
  }
  return { changes: pages.flatMap((p) => p.changes), cursor: cursor!, pages };
}

describe('SalesforceAdapter.pollChanges', () => {
  it('merges changes across objects in SystemModstamp order', async () => {
    const h = await harness();
    const lead1 = await h.seed('lead', { company: 'A' });
    const opp = await h.seed('opportunity', { name: 'O', stage: 'Prospecting' });
    const lead2 = await h.seed('lead', { company: 'B' });
    const kase = await h.seed('case', { subject: 'S' });
    h.fake.touch('Lead', lead1, { Company: 'A2' });
    const page = await h.adapter.pollChanges(h.tenantId, undefined, 50, ctx);
    expect(
      page.changes.map((c) => `${c.target.objectType}:${c.target.recordId}:${c.change}`),
    ).toEqual([
      `contact:${RECIPIENT_CONTACT_ID}:created`,
      `opportunity:${opp}:created`,
      `lead:${lead2}:created`,
      `case:${kase}:created`,
      `lead:${lead1}:updated`,
    ]);
    expect(page.hasMore).toBe(false);
    const times = page.changes.map((c) => c.occurredAt.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('reports canonical snapshots, every mapped field as changed, and stable source ids', async () => {
    const h = await harness();
    const id = await h.seed('opportunity', {
      name: 'Deal',
      stage: 'Prospecting',
      amountMinor: 250000,
    });
    const stamp = String(h.fake.get('Opportunity', id)!['SystemModstamp']);
    const page = await h.adapter.pollChanges(h.tenantId, undefined, 50, ctx);
    const change = page.changes.find((c) => c.target.recordId === id)!;
    expect(change).toEqual({
      target: { objectType: 'opportunity', recordId: id },
      change: 'created',
      changedFields: ['name', 'accountId', 'stage', 'amountMinor', 'ownerId', 'discountPercent'],
      snapshot: {
        name: 'Deal',
        accountId: null,
        stage: 'Prospecting',
        amountMinor: 250000,
        ownerId: null,
        discountPercent: null,
      },
      occurredAt: new Date(Date.parse(stamp.replace('+0000', 'Z'))),
      sourceId: `Opportunity/${id}/${stamp}`,
    });
    const again = await (await h.restartAdapter()).pollChanges(h.tenantId, undefined, 50, ctx);
    expect(again.changes.map((c) => c.sourceId)).toEqual(page.changes.map((c) => c.sourceId));
    expect(again.nextCursor).toBe(page.nextCursor);
  });

  it('resumes from a cursor in small pages without gaps or repeats, across restarts', async () => {
    const h = await harness();
    const { cursor: start } = await drain(h, undefined, 100);
    const expected: string[] = [];
    for (let i = 0; i < 4; i++) {
      expected.push(await h.seed('lead', { company: `L${i}` }));
      expected.push(await h.seed('case', { subject: `C${i}` }));
    }
    // Polling sees each record as it is now: the touched lead's creation is superseded by its update.
    h.fake.touch('Lead', expected[0], { Company: 'changed' });
    expected.push(expected.shift()!);
    const { changes, pages } = await drain(h, start, 3);
    expect(changes.map((c) => c.target.recordId)).toEqual(expected);
    expect(new Set(changes.map((c) => c.sourceId)).size).toBe(changes.length);
    expect(pages.map((p) => p.changes.length)).toEqual([3, 3, 2]);
    expect(pages.map((p) => p.hasMore)).toEqual([true, true, false]);
    const quiet = await h.adapter.pollChanges(h.tenantId, pages[2].nextCursor, 3, ctx);
    expect(quiet).toEqual({ changes: [], nextCursor: pages[2].nextCursor, hasMore: false });
  });

  it('neither skips nor repeats records that share a SystemModstamp, within and across objects', async () => {
    const h = await harness();
    const { cursor: start } = await drain(h, undefined, 100);
    h.fake.freezeClock();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await h.seed('lead', { company: `same-${i}` }));
    for (let i = 0; i < 3; i++) ids.push(await h.seed('contact', { name: `same-${i}` }));
    h.fake.unfreezeClock();
    const later = await h.seed('lead', { company: 'later' });
    const stamps = new Set(
      ids.map((id) => h.fake.get(id.startsWith('00Q') ? 'Lead' : 'Contact', id)!['SystemModstamp']),
    );
    expect(stamps.size).toBe(1);
    for (const limit of [1, 2, 3, 4]) {
      const { changes } = await drain(h, start, limit);
      const got = changes.map((c) => c.target.recordId);
      expect(got.slice(0, 8).sort()).toEqual([...ids].sort());
      expect(got[8]).toBe(later);
      expect(got).toHaveLength(9);
      // Within one object and one SystemModstamp, Id order.
      const leads = got.filter((id) => id.startsWith('00Q')).slice(0, 5);
      expect(leads).toEqual([...leads].sort());
    }
  });

  it('queries each object after its own (SystemModstamp, Id) position', async () => {
    const h = await harness();
    const id = await h.seed('lead', { company: 'A' });
    const first = await h.adapter.pollChanges(h.tenantId, undefined, 10, ctx);
    const before = h.fake.requests.length;
    await h.adapter.pollChanges(h.tenantId, first.nextCursor, 2, ctx);
    const queries = h.fake.requests.slice(before).map((r) => r.query);
    const stamp = String(h.fake.get('Lead', id)!['SystemModstamp']).replace('.000+0000', 'Z');
    expect(queries).toContain(
      'q=SELECT Id, SystemModstamp, CreatedDate, Name, Email, Company, Title, NumberOfEmployees, Industry, LeadSource, Country, Description, Status, Lead_Score__c, OwnerId, Email_Consent__c, HasOptedOutOfEmail, Qualification_Reason__c, Disqualification_Code__c FROM Lead ' +
        `WHERE SystemModstamp > ${stamp} OR (SystemModstamp = ${stamp} AND Id > '${id}') ORDER BY SystemModstamp ASC, Id ASC LIMIT 3`,
    );
    // An object with no position yet is read from its start.
    expect(
      queries.some((q) => / FROM Account ORDER BY SystemModstamp ASC, Id ASC LIMIT 3$/.test(q)),
    ).toBe(true);
  });

  it('follows nextRecordsUrl when Salesforce splits a result into batches', async () => {
    const h = await harness({ fake: { queryBatchSize: 2 } });
    const { cursor } = await drain(h, undefined, 100);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await h.seed('lead', { company: `L${i}` }));
    const page = await h.adapter.pollChanges(h.tenantId, cursor, 4, ctx);
    expect(page.changes.map((c) => c.target.recordId)).toEqual(ids.slice(0, 4));
    expect(page.hasMore).toBe(true);
    expect(h.fake.requests.some((r) => /\/query\/01gFAKE/.test(r.path))).toBe(true);
  });

  it('leaves changes younger than the lag for a later poll (by the org clock)', async () => {
    const h = await harness({ config: { pollLagSeconds: 10 } });
    const { cursor } = await drain(h, undefined, 100);
    h.fake.advanceClock(60_000);
    const { cursor: settled } = await drain(h, cursor, 100);
    const id = await h.seed('lead', { company: 'fresh' });
    const early = await h.adapter.pollChanges(h.tenantId, settled, 10, ctx);
    expect(early).toEqual({ changes: [], nextCursor: settled, hasMore: false });
    h.fake.advanceClock(10_000);
    const late = await h.adapter.pollChanges(h.tenantId, settled, 10, ctx);
    expect(late.changes.map((c) => c.target.recordId)).toEqual([id]);
  });

  it('refuses a cursor it did not issue', async () => {
    const h = await harness();
    for (const bad of [
      'garbage',
      Buffer.from('{"v":2}').toString('base64url'),
      encodeCursor({ Lead: { stamp: 'x', id: 'y' } }, []),
    ])
      await expect(h.adapter.pollChanges(h.tenantId, bad, 10, ctx)).rejects.toMatchObject({
        kind: 'permanent',
        code: 'INVALID_CURSOR',
      });
  });
});

describe('change cursor', () => {
  it('round-trips positions and encodes them in a stable order', () => {
    const positions = {
      Case: { stamp: '2025-01-01T00:00:02.000+0000', id: '5005g0000000001AAA' },
      Lead: { stamp: '2025-01-01T00:00:01.000+0000', id: '00Q5g0000000001EAA' },
    };
    const cursor = encodeCursor(positions, ['Lead', 'Case']);
    expect(decodeCursor(cursor)).toEqual(positions);
    expect(encodeCursor({ Lead: positions.Lead, Case: positions.Case }, ['Lead', 'Case'])).toBe(
      cursor,
    );
    expect(decodeCursor(undefined)).toEqual({});
  });

  it('writes SOQL datetime literals without a fraction for whole seconds', () => {
    expect(
      changeQuery(
        'Lead',
        ['Name'],
        { stamp: '2025-01-01T00:00:01.000+0000', id: '00Q5g0000000001EAA' },
        5,
      ),
    ).toBe(
      "SELECT Id, SystemModstamp, CreatedDate, Name FROM Lead WHERE SystemModstamp > 2025-01-01T00:00:01Z OR (SystemModstamp = 2025-01-01T00:00:01Z AND Id > '00Q5g0000000001EAA') ORDER BY SystemModstamp ASC, Id ASC LIMIT 5",
    );
    expect(
      changeQuery(
        'Lead',
        ['Id'],
        { stamp: '2025-01-01T00:00:01.250+0000', id: '00Q5g0000000001EAA' },
        5,
      ),
    ).toContain('SystemModstamp > 2025-01-01T00:00:01.250Z');
  });

  it('merges keeping each list a prefix, ties by list order', () => {
    const row = (sobject: string, stampMs: number, id: string) => ({
      sobject,
      stampMs,
      record: { Id: id },
    });
    const a = [row('A', 1, 'a1'), row('A', 3, 'a2'), row('A', 3, 'a3')];
    const b = [row('B', 1, 'b1'), row('B', 2, 'b2')];
    expect(mergeByStamp([a, b], 4).map((r) => r.record.Id)).toEqual(['a1', 'b1', 'b2', 'a2']);
  });
});
