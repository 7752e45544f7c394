import type { OfflineResponderLike as OfflineResponder } from '../model-port';
import type { AgentId } from '../agent-definitions';
import { dealDeskOffline } from './deal-desk.offline';
import { leadQualificationOffline } from './lead-qualification.offline';
import { outreachOffline } from './outreach.offline';
import { serviceTriageOffline } from './service-triage.offline';

export * from './deal-desk.offline';
export * from './lead-qualification.offline';
export * from './outreach.offline';
export * from './service-triage.offline';
export { INJECTION_NOTE, stripInjections } from './signals';

/** The offline rules (not an LLM) of each agent, for `new OfflineModel(...)`. */
export const OFFLINE_RESPONDERS: Readonly<Record<AgentId, OfflineResponder>> = {
  'lead-qualification': leadQualificationOffline,
  'deal-desk': dealDeskOffline,
  'service-triage': serviceTriageOffline,
  outreach: outreachOffline,
};
