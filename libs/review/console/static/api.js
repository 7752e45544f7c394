// The human-review HTTP API, with the bearer token of the signed-in user.

const TOKEN_KEY = 'mandate.console.token';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(t) {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  /** `{id, roles, tenantId}` once signed in. */
  me: undefined,
  /** The service's console settings (`/v1/console/config`): the ledger's pinned verifier keys. */
  config: undefined,
};

/** Called when the server says the token is no longer good (401). */
let onUnauthorised = () => undefined;
export function whenUnauthorised(fn) {
  onUnauthorised = fn;
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, `the server cannot be reached (${err.message})`);
  }
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const m = data && typeof data === 'object' ? (data.message ?? data.error) : data;
    const message = Array.isArray(m) ? m.join('; ') : m || `${res.status} ${res.statusText}`;
    if (res.status === 401 && !path.startsWith('/v1/dev/login')) onUnauthorised();
    throw new ApiError(res.status, String(message), data);
  }
  return data;
}

const enc = encodeURIComponent;
const tenantPath = () => `/v1/tenants/${enc(session.me.tenantId)}`;
const taskPath = (id) => `${tenantPath()}/review/tasks/${enc(id)}`;

export const Review = {
  devLogin: (sub) => api('POST', '/v1/dev/login', { sub }),
  me: () => api('GET', '/v1/me'),
  list: (filters) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    return api('GET', `${tenantPath()}/review/tasks?${q}`);
  },
  get: (id) => api('GET', taskPath(id)),
  claim: (id) => api('POST', `${taskPath(id)}/claim`, {}),
  release: (id) => api('POST', `${taskPath(id)}/release`, {}),
  decide: (id, decision) => api('POST', `${taskPath(id)}/decision`, decision),
  comment: (id, text) => api('POST', `${taskPath(id)}/comments`, { text }),
  batchApprove: (taskIds) => api('POST', `${tenantPath()}/review/batch-approve`, { taskIds }),
  audit: (id) => api('GET', `${taskPath(id)}/audit`),
  analytics: (from, to) =>
    api('GET', `${tenantPath()}/review/analytics?${new URLSearchParams({ from, to })}`),
  config: () => api('GET', '/v1/console/config'),
};

const handoffPath = (id) => `${tenantPath()}/review/handoffs/${enc(id)}`;
export const HandOffs = {
  list: (status) =>
    api('GET', `${tenantPath()}/review/handoffs?${new URLSearchParams({ status })}`),
  get: (id) => api('GET', handoffPath(id)),
  claim: (id) => api('POST', `${handoffPath(id)}/claim`, {}),
  release: (id) => api('POST', `${handoffPath(id)}/release`, {}),
  /** `{outcome: DONE | DISMISSED, note?}` */
  resolve: (id, body) => api('POST', `${handoffPath(id)}/resolve`, body),
};

export const Agents = {
  /** The tenant's agents, or only `agentId`. */
  list: (agentId) =>
    api('GET', `${tenantPath()}/agents${agentId ? `?${new URLSearchParams({ agentId })}` : ''}`),
  /** `{scope: tenant|agent|action, agentId?, actionType?, mode, reason}` (admins only). */
  engage: (body) => api('POST', `${tenantPath()}/agents/kill-switch`, body),
  release: (body) => api('POST', `${tenantPath()}/agents/kill-switch/clear`, body),
};

export const Ledger = {
  /** `{correlationId}` or `{objectType, recordId}`. */
  chain: (key) => api('GET', `${tenantPath()}/ledger/chain?${new URLSearchParams(key)}`),
};

/** Whether the signed-in user may decide (the server checks again: auditors never may). */
export function canDecide() {
  const roles = session.me?.roles ?? [];
  return !roles.includes('auditor') && (roles.includes('reviewer') || roles.includes('supervisor'));
}

/** Reviewer analytics describe colleagues: supervisors, auditors and admins read them. */
export function canReadAnalytics() {
  const roles = session.me?.roles ?? [];
  return ['supervisor', 'auditor', 'admin'].some((r) => roles.includes(r));
}

/** The role shown in the header. */
export function mainRole() {
  const roles = session.me?.roles ?? [];
  for (const r of ['auditor', 'admin', 'supervisor', 'reviewer']) if (roles.includes(r)) return r;
  return roles[0] ?? 'no role';
}
