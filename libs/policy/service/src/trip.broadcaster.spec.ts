import { InMemoryBroker, InProcessEventBus, Topics } from '@mandate/messaging';
import { CircuitBreakers, DEFAULT_CIRCUIT_BREAKER_CONFIG } from '@mandate/policy-domain';
import {
  createLogger,
  ProcessMetrics,
  ReadinessRegistry,
  type ServiceContext,
} from '@mandate/platform';
import { PendingPublications } from './pending-publications';
import { TripBroadcaster } from './trip.broadcaster';

const NOW = new Date('2025-01-15T10:00:00Z');

describe('TripBroadcaster', () => {
  it('sends a trip whose broadcast failed on the next attempt, once', async () => {
    const broker = new InMemoryBroker();
    const bus = new InProcessEventBus({ broker });
    await bus.start();
    const ctx: ServiceContext = {
      name: 'policy',
      group: 'policy',
      bus,
      logger: createLogger('test', 'silent'),
      metrics: new ProcessMetrics(false).forService('policy'),
      readiness: new ReadinessRegistry(),
    };
    const breakers = new CircuitBreakers(
      {
        ...DEFAULT_CIRCUIT_BREAKER_CONFIG,
        errorSpike: { ...DEFAULT_CIRCUIT_BREAKER_CONFIG.errorSpike, maxFailures: 1 },
      },
      undefined,
      () => NOW,
    );
    const [trip] = breakers.observe({
      type: 'execution',
      failed: true,
      eventId: 'o-1',
      tenantId: 'acme',
      agentId: 'lead-qualification',
      at: NOW,
    });
    expect(trip.kind).toBe('CIRCUIT_BREAKER_TRIPPED');

    const broadcaster = new TripBroadcaster(breakers, new PendingPublications(), ctx);
    const publish = bus.publish.bind(bus);
    bus.publish = async () => {
      throw new Error('broker down');
    };
    await expect(broadcaster.broadcast(trip)).rejects.toThrow('broker down');
    expect(broker.records(Topics.policyControl.name)).toHaveLength(0);

    // The redelivered outcome produces no trip (already observed); the flush still sends it.
    bus.publish = publish;
    await broadcaster.flush();
    await broadcaster.flush();
    expect(broker.records(Topics.policyControl.name)).toHaveLength(1);
    expect(broker.records(Topics.auditRecords.name)).toHaveLength(1);
    await bus.stop();
  });
});
