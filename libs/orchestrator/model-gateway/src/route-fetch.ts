/** Thrown (and never retried) when a route's client tries to reach another URL. */
export class RouteViolationError extends Error {
  constructor(route: string, attempted: string, allowed: string) {
    super(`model-gateway: route ${route} may only call ${allowed}; refused ${attempted}`);
    this.name = 'RouteViolationError';
  }
}

export type AuthScheme = 'bearer' | 'api-key' | 'none';

export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A route's fetch, given to the OpenAI SDK under ChatOpenAI: it reaches only the route's own
 * chat-completions URL (whatever path the SDK picks, e.g. the Responses API), and sends the
 * authentication chosen here — Bearer, Azure's `api-key`, or none for keyless vLLM/Ollama —
 * whatever the SDK set (it always sets a Bearer header, from OPENAI_API_KEY if nothing else).
 */
export function routeFetch(
  route: string,
  allowed: string,
  scheme: AuthScheme,
  key: string | undefined,
  inner: FetchFn = (input, init) => fetch(input, init),
): FetchFn {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const target = `${url.origin}${url.pathname}`;
    if (target !== allowed) {
      return Promise.reject(new RouteViolationError(route, target, allowed));
    }
    const headers = new Headers(init?.headers);
    headers.delete('authorization');
    headers.delete('api-key');
    if (scheme === 'bearer' && key !== undefined) headers.set('authorization', `Bearer ${key}`);
    if (scheme === 'api-key' && key !== undefined) headers.set('api-key', key);
    return inner(url, { ...init, headers });
  };
}
