import { DynamicModule, Module } from '@nestjs/common';
import {
  BundleRegistry,
  BundleStore,
  BundleSync,
  CircuitBreakers,
  ControlAdmin,
  ControlApplier,
  DECISIONS,
  KillSwitchBoard,
  POLICY_BUNDLE_POINTER,
  POLICY_BUNDLES,
  POLICY_CONTROLS,
  PolicyDecider,
  PolicyEngine,
  PolicyOversight,
  SHADOW_DIVERGENCES,
  TRUST_STATES,
  TrustEvidenceRecorder,
  TrustEvidenceRouter,
  TrustRepository,
  type RecordReader,
} from '@mandate/policy-domain';
import type { DecisionTokenIssuer } from '@mandate/decision-token';
import {
  API_AUTHENTICATOR,
  OutboxRelayHost,
  serviceModule,
  type RequestAuthenticator,
  type ServiceContext,
  type StoreProvider,
} from '@mandate/platform';
import { BUNDLE_SYNC_OPTIONS, BundleSyncHost } from './bundle-sync.host';
import { ControlConsumer } from './control.consumer';
import { PolicyAdminController, TenantPolicyController } from './policy-admin.controller';
import { PolicyDecisionsReader } from './policy-decisions.reader';
import { PolicyOversightApi } from './oversight.adapter';
import { ProposalConsumer } from './proposal.consumer';
import { PendingPublications } from './pending-publications';
import { TripBroadcaster } from './trip.broadcaster';
import { OutcomeConsumer, TrustEvidenceConsumer } from './trust-evidence.consumers';

export interface PolicyServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  issuer: DecisionTokenIssuer;
  /** Where facts come from: the connector's GetRecord (service app) or the embedded CRM. */
  reader: RecordReader;
  /** The repository bundle that seeds an empty bundle store. */
  seedBundleDir: string;
  /** Authenticates operators on the admin API (kill switches, breakers, bundles). */
  authenticator: RequestAuthenticator;
  bundleSyncIntervalMs?: number;
  maxBundleAgeMs?: number;
  relayIntervalMs?: number;
}

@Module({})
export class PolicyServiceModule {
  static async create(o: PolicyServiceOptions): Promise<DynamicModule> {
    const decisions = await o.stores.store(DECISIONS);
    const divergences = await o.stores.store(SHADOW_DIVERGENCES);
    const trustStates = await o.stores.store(TRUST_STATES);
    const bundles = await o.stores.store(POLICY_BUNDLES);
    const pointer = await o.stores.store(POLICY_BUNDLE_POINTER);
    const controls = await o.stores.store(POLICY_CONTROLS);
    const maxBundleAgeMs = o.maxBundleAgeMs ?? 60_000;

    const registry = new BundleRegistry();
    const shadowRegistry = new BundleRegistry();
    const killSwitches = new KillSwitchBoard();
    const breakers = new CircuitBreakers();
    const trust = new TrustRepository(trustStates);
    const engine = new PolicyEngine({
      registry,
      trust,
      killSwitches,
      breakers,
      issuer: o.issuer,
      maxBundleAgeMs,
    });
    const bundleStore = new BundleStore(bundles, pointer);
    const bundleSync = new BundleSync({
      store: bundleStore,
      active: registry,
      shadow: shadowRegistry,
      log: (e) => o.context.logger[e.level]({ ...e }, e.message),
    });
    const shadowEngine = new PolicyEngine({
      registry: shadowRegistry,
      trust,
      killSwitches,
      breakers,
      issuer: o.issuer,
      maxBundleAgeMs,
      issueTokens: false,
    });
    const controlAdmin = new ControlAdmin(killSwitches, controls);
    const oversight = new PolicyOversight({ trust, breakers, controls: controlAdmin, registry });
    const pending = new PendingPublications();
    const trips = new TripBroadcaster(breakers, pending, o.context);
    const decider = new PolicyDecider({
      engine,
      reader: o.reader,
      decisions,
      divergences,
      breakers,
      shadow: { engine: shadowEngine, active: () => bundleSync.shadowActive() },
      onBreakerTrip: (audit) => trips.broadcast(audit),
    });

    return serviceModule({
      module: PolicyServiceModule,
      context: o.context,
      consumers: [ProposalConsumer, OutcomeConsumer, TrustEvidenceConsumer, ControlConsumer],
      controllers: [PolicyAdminController, TenantPolicyController],
      outbox: {
        sources: [decisions, divergences, bundles, pointer, controls],
        intervalMs: o.relayIntervalMs,
      },
      providers: [
        { provide: PolicyDecider, useValue: decider },
        { provide: PolicyEngine, useValue: engine },
        { provide: TrustRepository, useValue: trust },
        { provide: TrustEvidenceRouter, useValue: new TrustEvidenceRouter(decisions) },
        { provide: TrustEvidenceRecorder, useValue: new TrustEvidenceRecorder(trust, breakers) },
        { provide: TripBroadcaster, useValue: trips },
        { provide: PendingPublications, useValue: pending },
        { provide: KillSwitchBoard, useValue: killSwitches },
        { provide: CircuitBreakers, useValue: breakers },
        { provide: ControlAdmin, useValue: controlAdmin },
        {
          // The console's oversight view and kill switch, kicking this service's relay.
          provide: PolicyOversightApi,
          useFactory: (relay: OutboxRelayHost) =>
            new PolicyOversightApi(oversight, controlAdmin, relay),
          inject: [OutboxRelayHost],
        },
        { provide: ControlApplier, useValue: new ControlApplier(killSwitches, breakers) },
        { provide: BundleRegistry, useValue: registry },
        { provide: BundleStore, useValue: bundleStore },
        { provide: BundleSync, useValue: bundleSync },
        {
          provide: BUNDLE_SYNC_OPTIONS,
          useValue: {
            seedBundleDir: o.seedBundleDir,
            intervalMs: o.bundleSyncIntervalMs ?? 5_000,
            maxAgeMs: maxBundleAgeMs,
          },
        },
        BundleSyncHost,
        { provide: API_AUTHENTICATOR, useValue: o.authenticator },
        { provide: PolicyDecisionsReader, useValue: new PolicyDecisionsReader(divergences) },
      ],
      exports: [
        PolicyDecider,
        TrustRepository,
        KillSwitchBoard,
        BundleRegistry,
        PolicyOversightApi,
      ],
    });
  }
}
