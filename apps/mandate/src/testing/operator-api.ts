import type { ApiTokenEntry } from '@mandate/platform';

/** A test operator: its identity and a minted token (`generateApiToken()`). */
export interface TestOperator {
  readonly id: string;
  readonly roles: readonly string[];
  readonly tenantId?: string;
  readonly token: string;
  readonly sha256: string;
}

/** The token entries (hashes only) the embedded process is started with. */
export function operatorTokenEntries(
  operators: Readonly<Record<string, TestOperator>>,
): ApiTokenEntry[] {
  return Object.values(operators).map(({ id, roles, sha256, tenantId }) => ({
    id,
    roles: [...roles],
    sha256,
    ...(tenantId ? { tenantId } : {}),
  }));
}

export interface ApiResponse {
  readonly status: number;
  // Response bodies are asserted field by field.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** Calls the embedded HTTP API as one of `operators` (or without a token). */
export function operatorApi<K extends string>(
  operators: Readonly<Record<K, TestOperator>>,
  port: () => number,
) {
  return async (
    who: K | undefined,
    method: 'GET' | 'POST',
    route: string,
    body?: unknown,
  ): Promise<ApiResponse> => {
    const res = await fetch(`http://127.0.0.1:${port()}${route}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(who ? { authorization: `Bearer ${operators[who].token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
