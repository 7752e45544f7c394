import { GatewayConfigError, parseGatewayConfig } from './config';

const SECRET = 'sk-live-0123456789abcdefSECRET';

const base = {
  provider: 'openai',
  baseUrl: 'https://api.openai.com/v1',
  apiKeyEnv: 'OPENAI_KEY_PROD',
  model: 'gpt-4o-mini',
  timeoutMs: 30_000,
  maxRetries: 2,
  region: 'us',
};

function errorOf(input: unknown): GatewayConfigError {
  try {
    parseGatewayConfig(input);
  } catch (error) {
    if (error instanceof GatewayConfigError) return error;
    throw error;
  }
  throw new Error('expected a GatewayConfigError');
}

describe('parseGatewayConfig', () => {
  it('accepts the documented examples (JSON text or objects)', () => {
    const json = JSON.stringify({
      routes: {
        default: {
          ...base,
          temperature: 0,
          maxTokens: 1024,
          pricing: { inputPerMillionUsd: 0.15, outputPerMillionUsd: 0.6 },
        },
        tenants: {
          'acme-eu': {
            provider: 'azure-openai',
            baseUrl: 'https://acme-eu.openai.azure.com/openai/deployments/gpt-4o-prod',
            apiKeyEnv: 'ACME_AZURE_OPENAI_KEY',
            apiVersion: '2024-10-21',
            model: 'gpt-4o',
            timeoutMs: 30_000,
            maxRetries: 3,
            region: 'westeurope',
          },
          'onprem-co': {
            provider: 'vllm',
            baseUrl: 'http://vllm.ml.svc.cluster.local:8000/v1',
            model: 'meta-llama/Llama-3.1-70B-Instruct',
            timeoutMs: 60_000,
            maxRetries: 1,
            region: 'customer-dc-1',
          },
          laptop: {
            provider: 'ollama',
            baseUrl: 'http://localhost:11434/v1',
            model: 'llama3.1:8b',
            timeoutMs: 120_000,
            maxRetries: 0,
            region: 'local',
            toolChoice: 'auto',
          },
        },
      },
    });
    const config = parseGatewayConfig(json);
    expect(Object.keys(config.routes.tenants ?? {})).toEqual(['acme-eu', 'onprem-co', 'laptop']);
    expect(config.routes.default.pricing).toEqual({
      inputPerMillionUsd: 0.15,
      outputPerMillionUsd: 0.6,
    });
  });

  it('names an unknown key holding a key, never its value', () => {
    const error = errorOf({ routes: { default: { ...base, apiKey: SECRET } } });
    expect(error.issues).toEqual([
      'routes.default: unknown key(s) apiKey (secrets never go in this configuration: name an environment variable in apiKeyEnv)',
    ]);
    expect(error.message).not.toContain(SECRET);
  });

  it('refuses a key pasted into apiKeyEnv without repeating it', () => {
    const error = errorOf({ routes: { default: { ...base, apiKeyEnv: SECRET } } });
    expect(error.issues).toEqual([
      'routes.default.apiKeyEnv: must be the NAME of an environment variable (letters, digits, underscore), not a key',
    ]);
    expect(error.message).not.toContain(SECRET);
  });

  it('does not quote invalid JSON (it may hold a pasted key)', () => {
    const error = errorOf(`{"routes": {"default": {"apiKey": "${SECRET}" oops`);
    expect(error.issues).toEqual(['the configuration is not valid JSON']);
    expect(error.message).not.toContain(SECRET);
  });

  it('reports every problem with its path, without values', () => {
    const error = errorOf({
      routes: {
        default: { ...base, provider: 'gpt-secret-provider', timeoutMs: undefined, temperature: 7 },
        tenants: {
          acme: { ...base, baseUrl: `http://user:${SECRET}@api.example.com/v1?x=1` },
          beta: { ...base, provider: 'ollama', apiVersion: '2024-10-21', maxRetries: -1 },
          gamma: { ...base, model: 'gpt-5.2-codex' },
          delta: { ...base, apiKeyEnv: undefined },
        },
      },
    });
    expect(error.issues).toEqual([
      'routes.default.provider: must be one of openai, azure-openai, vllm, ollama, openai-compatible',
      'routes.default.temperature: must be <= 2',
      'routes.default.timeoutMs: is required',
      'routes.tenants.acme.baseUrl: must not carry credentials (use apiKeyEnv)',
      'routes.tenants.acme.baseUrl: must not have a query or fragment (Azure api-version goes in apiVersion)',
      'routes.tenants.acme.baseUrl: must use https for provider openai',
      'routes.tenants.beta.maxRetries: must be >= 0',
      'routes.tenants.beta.apiVersion: is only meaningful for provider azure-openai',
      'routes.tenants.gamma.model: is a model ChatOpenAI 1.5.8 always sends to the Responses API; this gateway speaks chat completions only',
      'routes.tenants.delta.apiKeyEnv: is required for provider openai',
    ]);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('gpt-secret-provider');
  });

  it('reports apiVersion on a non-Azure route', () => {
    expect(
      errorOf({ routes: { default: { ...base, provider: 'ollama', apiVersion: '2024-10-21' } } })
        .issues,
    ).toEqual(['routes.default.apiVersion: is only meaningful for provider azure-openai']);
  });

  it('requires a default route', () => {
    expect(errorOf({ routes: {} }).issues).toEqual(['routes.default: is required']);
    expect(errorOf(null).issues).toEqual(['(root): expected object, got null']);
  });

  it('allows http to loopback for keyed providers (local tests), and to any host for vLLM', () => {
    expect(() =>
      parseGatewayConfig({ routes: { default: { ...base, baseUrl: 'http://127.0.0.1:9999/v1' } } }),
    ).not.toThrow();
    expect(() =>
      parseGatewayConfig({
        routes: {
          default: {
            ...base,
            provider: 'vllm',
            apiKeyEnv: undefined,
            baseUrl: 'http://vllm:8000/v1',
          },
        },
      }),
    ).not.toThrow();
  });
});
