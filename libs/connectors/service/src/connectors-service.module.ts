import { DynamicModule, Module } from '@nestjs/common';
import {
  EXECUTIONS,
  EXECUTION_EVENTS,
  NO_FAILPOINTS,
  SafeExecutor,
  type Failpoints,
} from '@mandate/connector-sdk';
import {
  CHANGE_CURSORS,
  CRM_RECORDS,
  ChangeIngestor,
  ConnectorRegistry,
  DEFAULT_CONNECTORS_CONFIG,
  EmbeddedCrm,
  EmbeddedCrmAdapter,
  INGESTED_CHANGES,
  type AdapterFactory,
  type ConnectorsConfig,
} from '@mandate/connectors-domain';
import type { DecisionTokenVerifier } from '@mandate/decision-token';
import {
  API_AUTHENTICATOR,
  firstOf,
  serviceModule,
  type RequestAuthenticator,
  type ServiceContext,
  type StoreProvider,
} from '@mandate/platform';
import { ChangeFeedHost, CHANGE_FEED_OPTIONS, CURSOR_STORE } from './change-feed.host';
import { prometheusConnectorTelemetry } from './connector-telemetry';
import { CRM_AUTHENTICATOR, CrmController } from './crm.controller';
import { DecisionConsumer } from './decision.consumer';
import { EXECUTION_STORE, ExecutionController } from './execution.controller';
import { WebhookController } from './webhook.controller';

export interface ConnectorsServiceOptions {
  context: ServiceContext;
  stores: StoreProvider;
  verifier: DecisionTokenVerifier;
  /**
   * Operator tokens (`ApiTokenAuthenticator`): the only credential of the executions API
   * (compensation), and accepted on the embedded CRM's routes. A token it does not know is 401.
   */
  authenticator: RequestAuthenticator;
  /**
   * People's bearer tokens (OIDC; the dev sign-in embedded), accepted on the embedded CRM's
   * routes only, after the operator tokens (`firstOf`); never on the executions API, so a
   * person's token cannot compensate. Omitted: operator tokens only.
   */
  people?: RequestAuthenticator;
  /** Which CRM each tenant uses; default: every tenant on the embedded CRM. */
  connectors?: ConnectorsConfig;
  /** Adapter factories besides the built-in `embedded` one (e.g. salesforce, hubspot). */
  factories?: Readonly<Record<string, AdapterFactory>>;
  /** Poll polled CRMs (Salesforce) this often; default 5 s, 0 disables. */
  pollIntervalMs?: number;
  failpoints?: Failpoints;
  relayIntervalMs?: number;
}

@Module({})
export class ConnectorsServiceModule {
  static async create(o: ConnectorsServiceOptions): Promise<DynamicModule> {
    const records = await o.stores.store(CRM_RECORDS);
    const executions = await o.stores.store(EXECUTIONS);
    const events = await o.stores.store(EXECUTION_EVENTS);
    const ingested = await o.stores.store(INGESTED_CHANGES);
    const cursors = await o.stores.store(CHANGE_CURSORS);
    const crm = new EmbeddedCrm(records);
    const registry = new ConnectorRegistry(
      o.connectors ?? DEFAULT_CONNECTORS_CONFIG,
      { ...o.factories, embedded: (tenant) => new EmbeddedCrmAdapter(crm, tenant) },
      { telemetry: prometheusConnectorTelemetry(o.context.metrics) },
    );
    registry.validate(); // bad credentials/settings stop the service before it serves
    const executor = new SafeExecutor(
      (tenant) => registry.resolve(tenant),
      executions,
      o.verifier,
      events,
      o.failpoints ?? NO_FAILPOINTS,
    );
    return serviceModule({
      module: ConnectorsServiceModule,
      context: o.context,
      consumers: [DecisionConsumer],
      controllers: [CrmController, WebhookController, ExecutionController],
      outbox: { sources: [records, executions, events, ingested], intervalMs: o.relayIntervalMs },
      providers: [
        { provide: SafeExecutor, useValue: executor },
        { provide: EmbeddedCrm, useValue: crm },
        { provide: ConnectorRegistry, useValue: registry },
        { provide: ChangeIngestor, useValue: new ChangeIngestor(ingested) },
        { provide: EXECUTION_STORE, useValue: executions },
        { provide: CURSOR_STORE, useValue: cursors },
        { provide: CHANGE_FEED_OPTIONS, useValue: { intervalMs: o.pollIntervalMs ?? 5_000 } },
        { provide: API_AUTHENTICATOR, useValue: o.authenticator },
        {
          provide: CRM_AUTHENTICATOR,
          useValue: o.people ? firstOf(o.authenticator, o.people) : o.authenticator,
        },
        ChangeFeedHost,
      ],
      exports: [EmbeddedCrm, ConnectorRegistry, SafeExecutor],
    });
  }
}
