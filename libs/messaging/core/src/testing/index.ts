export {
  describeEventBusContract,
  type ContractOptions,
  type EventBusHarness,
  type EventBusHarnessFactory,
} from './event-bus.contract';
