import { PlanHandOff } from '@mandate/contracts';
import { Topics, type Envelope } from '@mandate/messaging';
import type { OutboxRelayHost, ServiceContext } from '@mandate/platform';
import {
  HANDOFF_TASKS,
  HandOffQueue,
  type HandOffTaskDoc,
  type ReviewerDirectory,
} from '@mandate/review-domain';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { HandOffConsumer } from './handoff.consumer';

const ACME = tenantId('acme');
const GLOBEX = tenantId('globex');

const handOff = (o: Partial<PlanHandOff> = {}): PlanHandOff =>
  PlanHandOff.fromPartial({
    handoffId: 'ho-1',
    tenantId: ACME,
    correlationId: 'corr-1',
    planId: 'plan-1',
    agentId: 'service-triage',
    target: { objectType: 'activity', recordId: 'act-1' },
    reason: 'hand_off: The message could refer to 2 open cases; a human must decide which.',
    candidates: ['case-0001', 'case-0002'],
    handedOffAt: '2026-03-10T10:00:00.000Z',
    objective: 'triage an inbound email',
    ...o,
  });

/** The envelope the bus hands the consumer; `tenantId` is the one the publisher stamped. */
const envelope = (value: PlanHandOff, tenant: string): Envelope<PlanHandOff> => ({
  id: `evt-${value.handoffId}`,
  type: 'mandate.v1.PlanHandOff',
  source: 'orchestrator',
  time: '2026-03-10T10:00:00.000Z',
  tenantId: tenant,
  correlationId: value.correlationId,
  key: `${tenant}/plan/${value.planId}`,
  value,
  attempt: 1,
  headers: {},
  topic: Topics.planHandOffs.name,
  partition: 0,
  offset: '0',
});

function setup() {
  const store = new InMemoryDocumentStore<HandOffTaskDoc>(HANDOFF_TASKS);
  const reviewers: ReviewerDirectory = {
    reviewer: async () => undefined,
    reviewers: async () => [],
  };
  const queue = new HandOffQueue({ handoffs: store, reviewers });
  const kick = jest.fn(async () => undefined);
  const warn = jest.fn();
  const consumer = new HandOffConsumer(
    queue,
    { kick } as unknown as OutboxRelayHost,
    { logger: { warn } } as unknown as ServiceContext,
  );
  return { store, queue, consumer, kick, warn };
}

describe('HandOffConsumer', () => {
  it("drops a hand-off whose tenant is not the envelope's: no task in either tenant, logged", async () => {
    const { store, consumer, kick, warn } = setup();
    // Stamped by (or for) globex, claiming to be acme's: nothing is opened anywhere.
    await consumer.onHandOff(envelope(handOff(), GLOBEX));
    expect(await store.get(ACME, 'ho-1')).toBeNull();
    expect(await store.get(GLOBEX, 'ho-1')).toBeNull();
    expect(kick).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      { tenantId: GLOBEX, handoffId: 'ho-1', source: 'orchestrator' },
      'hand-off dropped: its tenant is not the envelope tenant',
    );
  });

  it("opens the task of a hand-off whose tenant is the envelope's, once", async () => {
    const { store, consumer, kick, warn } = setup();
    await consumer.onHandOff(envelope(handOff(), ACME));
    const task = await store.get(ACME, 'ho-1');
    expect(task).toMatchObject({
      id: 'ho-1',
      status: 'OPEN',
      planId: 'plan-1',
      candidates: ['case-0001', 'case-0002'],
    });
    expect(await store.get(GLOBEX, 'ho-1')).toBeNull();
    expect(kick).toHaveBeenCalledTimes(1); // its audit record goes out at once
    expect(warn).not.toHaveBeenCalled();

    // Redelivered: found by its hand-off id, nothing written, nothing to relay.
    await consumer.onHandOff(envelope(handOff(), ACME));
    expect((await store.get(ACME, 'ho-1'))?.version).toBe(task!.version);
    expect(kick).toHaveBeenCalledTimes(1);
  });
});
