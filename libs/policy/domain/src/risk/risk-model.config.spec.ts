import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleConfigError } from './bundle-config.error';
import { RISK_FACTORS, parseRiskConfig } from './risk-model.config';

const BUNDLE_FILE = join(__dirname, '../../../bundles/default/risk.json');
// The tests mutate arbitrary paths of the parsed JSON to break it one way at a time.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const bundle = () => JSON.parse(readFileSync(BUNDLE_FILE, 'utf8')) as Record<string, any>;

function problemsOf(json: unknown): string[] {
  try {
    parseRiskConfig(json);
  } catch (e) {
    expect(e).toBeInstanceOf(BundleConfigError);
    return [...(e as BundleConfigError).problems];
  }
  throw new Error('expected parseRiskConfig to refuse the config');
}

describe('parseRiskConfig', () => {
  it('accepts the default bundle: weights sum to 1, bands increase from 0', () => {
    const config = parseRiskConfig(bundle());
    expect(config.version).toBe('risk-1');
    expect(RISK_FACTORS.reduce((s, f) => s + config.weights[f], 0)).toBeCloseTo(1, 12);
    expect(config.bands).toEqual({ low: 0, medium: 0.3, high: 0.5, critical: 0.7 });
    // Field names and labels are case-blind.
    expect(config.dataSensitivity.fields['discountpercent']).toBe(0.5);
    expect(config.customerTier['mid-market']).toBe(0.45);
  });

  it('refuses weights that do not sum to 1', () => {
    const json = bundle();
    json.weights.novelty = 0.3;
    expect(problemsOf(json)).toEqual([
      expect.stringMatching(/^\$\.weights: must sum to 1, got 1\.2/),
    ]);
  });

  it('refuses a missing factor, an unknown factor and a weight out of range', () => {
    const json = bundle();
    delete json.weights.novelty;
    json.weights.vibes = 0.1;
    json.weights.regulatory = -0.1;
    const problems = problemsOf(json);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.weights\.novelty: is missing/),
        expect.stringMatching(/^\$\.weights\.vibes: unknown key/),
        expect.stringMatching(/^\$\.weights\.regulatory: must be a number within 0\.\.1/),
      ]),
    );
  });

  it('refuses bands that do not start at 0 or do not increase', () => {
    const json = bundle();
    json.bands = { low: 0.1, medium: 0.5, high: 0.4, critical: 0.9 };
    expect(problemsOf(json)).toEqual([
      expect.stringMatching(/^\$\.bands\.low: must be 0/),
      expect.stringMatching(
        /^\$\.bands\.high: must be greater than the previous band's bound \(0\.5\)/,
      ),
    ]);
  });

  it('requires every action type in the per-action tables and refuses unknown variants', () => {
    const json = bundle();
    delete json.reversibility.send_email;
    delete json.externalVisibility.apply_discount;
    delete json.dataSensitivity.actionFields.reply_to_case;
    json.reversibility['send_email.bulk'] = 1;
    const problems = problemsOf(json);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.reversibility\.send_email: is missing/),
        expect.stringMatching(/^\$\.reversibility\.send_email\.bulk: unknown key/),
        expect.stringMatching(/^\$\.externalVisibility\.apply_discount: is missing/),
        expect.stringMatching(/^\$\.dataSensitivity\.actionFields\.reply_to_case: is missing/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('refuses a monetary scale that is not increasing and bad field lists', () => {
    const json = bundle();
    json.monetary.fullScaleMinor = 100;
    json.monetary.percentFields = 'discountPercent';
    expect(problemsOf(json)).toEqual([
      expect.stringMatching(/^\$\.monetary\.fullScaleMinor: must be greater than floorMinor/),
      expect.stringMatching(/^\$\.monetary\.percentFields: must be an array of non-empty strings/),
    ]);
  });

  it('refuses duplicate labels after normalisation and unknown top-level keys', () => {
    const json = bundle();
    json.customerTier['Mid Market'] = 0.5;
    json.weightz = {};
    expect(problemsOf(json)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.customerTier\.Mid Market: duplicates "mid-market"/),
        expect.stringMatching(/^\$\.weightz: unknown key/),
      ]),
    );
  });

  it('refuses non-objects and reports the file name', () => {
    expect(() => parseRiskConfig([], 'bundles/x/risk.json')).toThrow(
      /^bundles\/x\/risk\.json is invalid:\n {2}- \$: must be a JSON object/,
    );
    expect(problemsOf({})).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.version: must be a non-empty string/),
        expect.stringMatching(/^\$\.weights: must be an object/),
      ]),
    );
  });
});
