import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEMO_DATASET, demoDatasetSummary } from '@mandate/connectors-domain';
import { createLogger } from '@mandate/platform';
import { DEMO_TENANT, runDemo, startEmbedded } from './embedded';

describe('embedded CRM persistence', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mandate-embedded-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const start = () =>
    startEmbedded({
      logger: createLogger('mandate-test', 'silent'),
      httpPort: 0,
      grpcPort: 0,
      dataDir: dir,
    });

  it('seeds the demo dataset, and keeps the CRM (and what agents did to it) across a restart', async () => {
    const first = await start();
    try {
      const summary = demoDatasetSummary();
      expect(summary.total).toBeGreaterThanOrEqual(300);
      const opp = DEMO_DATASET.find((r) => r.objectType === 'opportunity')!;
      expect((await first.crm.get(DEMO_TENANT, opp.id))?.fields).toEqual(opp.fields);
      await runDemo(first);
      expect((await first.crm.get(DEMO_TENANT, 'lead-0001'))?.fields['status']).toBe('Qualified');
      await first.crm.update(DEMO_TENANT, 'account', 'acc-0001', { customerTier: 'strategic' });
    } finally {
      await first.close();
    }

    const second = await start();
    try {
      const lead = await second.crm.get(DEMO_TENANT, 'lead-0001');
      expect(lead?.fields['status']).toBe('Qualified');
      expect(lead?.appliedActions).toHaveLength(1);
      expect((await second.crm.get(DEMO_TENANT, 'acc-0001'))?.fields['customerTier']).toBe(
        'strategic',
      );
      // The demo runs again on the persisted CRM: the lead is reset to New and qualified again.
      const chains = await runDemo(second);
      expect(chains.get('lead-0001')!.length).toBeGreaterThan(0);
      const again = await second.crm.get(DEMO_TENANT, 'lead-0001');
      expect(again?.fields['status']).toBe('Qualified');
      expect(again?.appliedActions).toHaveLength(2);
    } finally {
      await second.close();
    }
  }, 60_000);
});
