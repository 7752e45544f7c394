import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OFFLINE_MODEL_LABEL } from '@mandate/model-gateway';
import { modelChoice, OrchestratorConfigError, parseTenantSettings } from './orchestrator-config';

const ROUTE = {
  provider: 'vllm',
  baseUrl: 'http://127.0.0.1:8000/v1',
  model: 'llama-3.1-70b',
  timeoutMs: 30_000,
  maxRetries: 2,
  region: 'eu-west-1',
};

describe('parseTenantSettings', () => {
  it('gives listed tenants their settings and others the fallback', () => {
    const settings = parseTenantSettings(
      JSON.stringify({
        acme: {
          timeZone: 'Europe/London',
          rules: { maxDiscountPercent: 15 },
          budget: { maxAdaptations: 1 },
        },
      }),
    );
    expect(settings('acme')).toEqual({
      timeZone: 'Europe/London',
      rules: { maxDiscountPercent: 15 },
      budget: { maxAdaptations: 1 },
    });
    expect(settings('globex')).toEqual({ timeZone: 'UTC' });
    expect(parseTenantSettings(undefined)('acme')).toEqual({ timeZone: 'UTC' });
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['a bad time zone', '{"acme":{"timeZone":"Mars/Olympus"}}', /acme\.timeZone: must be an IANA/],
    ['an unknown key', '{"acme":{"timeZone":"UTC","apiKey":"x"}}', /acme: Unrecognized key/],
    ['a bad tenant id', '{"Acme!":{"timeZone":"UTC"}}', /Acme!/],
    ['a budget out of range', '{"acme":{"timeZone":"UTC","budget":{"maxSteps":0}}}', /maxSteps/],
  ])('refuses %s with the path', (_name, raw, message) => {
    expect(() => parseTenantSettings(raw)).toThrow(OrchestratorConfigError);
    expect(() => parseTenantSettings(raw)).toThrow(message);
  });
});

describe('modelChoice', () => {
  it('is the offline rules (not an LLM) for everyone without a gateway', () => {
    const { modelFor, description } = modelChoice({});
    expect(description).toBe(OFFLINE_MODEL_LABEL);
    expect(modelFor('acme').label).toBe(OFFLINE_MODEL_LABEL);
  });

  it('routes tenants to the gateway, except those kept offline', () => {
    const { modelFor } = modelChoice({
      config: JSON.stringify({ routes: { default: ROUTE } }),
      offlineTenants: ['sandbox'],
    });
    expect(modelFor('acme').label).not.toBe(OFFLINE_MODEL_LABEL);
    expect(modelFor('sandbox').label).toBe(OFFLINE_MODEL_LABEL);
  });

  it('reads the configuration from a file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gw-'));
    const file = path.join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ routes: { default: ROUTE } }));
    expect(modelChoice({ configFile: file }).modelFor('acme').label).not.toBe(OFFLINE_MODEL_LABEL);
    expect(() => modelChoice({ configFile: path.join(dir, 'missing.json') })).toThrow(
      /MODEL_GATEWAY_CONFIG_FILE .* cannot be read: ENOENT/,
    );
  });

  it('refuses a bad configuration naming the key, never echoing a pasted secret', () => {
    const secret = 'sk-live-should-never-be-printed';
    let message = '';
    try {
      modelChoice({
        config: JSON.stringify({ routes: { default: { ...ROUTE, apiKey: secret } } }),
      });
    } catch (err) {
      expect(err).toBeInstanceOf(OrchestratorConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/apiKey/);
    expect(message).not.toContain(secret);
  });
});
