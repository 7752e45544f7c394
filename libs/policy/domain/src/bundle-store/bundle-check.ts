import { parseAutonomyMatrix } from '../autonomy/autonomy-matrix';
import { CedarEvaluator } from '../cedar/cedar.evaluator';
import { parseBundle } from '../cedar/bundle.parser';
import { BUNDLE_FILES, type PolicyBundle } from '../cedar/policy-bundle.model';
import { runPolicyTestCases } from '../cedar/policy-test.runner';
import { BundleConfigError } from '../risk/bundle-config.error';
import { parseRiskConfig } from '../risk/risk-model.config';

export type BundleCheck =
  | { ok: true; bundle: PolicyBundle; warnings: string[] }
  | { ok: false; bundle: PolicyBundle; errors: string[] };

/**
 * Everything a bundle must pass before it is stored or activated: parse problems, the Cedar
 * validator (manifest, annotations, strict schema validation), risk.json, matrix.json and the
 * bundle's own policy test cases. Collects every message; never throws.
 */
export function checkBundleFiles(files: Readonly<Record<string, string>>): BundleCheck {
  const bundle = parseBundle(files);
  return checkBundle(bundle);
}

export function checkBundle(bundle: PolicyBundle): BundleCheck {
  const errors: string[] = [];
  const built = CedarEvaluator.fromBundle(bundle);
  // fromBundle runs validateBundle, which reports the parser's problems first.
  if (!built.ok) errors.push(...built.errors);

  // A missing or unparsable file is already among the parse problems; do not report it twice.
  if (bundle.files[BUNDLE_FILES.risk] !== undefined)
    errors.push(
      ...configProblems(BUNDLE_FILES.risk, () => parseRiskConfig(bundle.files['risk.json'])),
    );
  if (bundle.files[BUNDLE_FILES.matrix] !== undefined)
    errors.push(
      ...configProblems(BUNDLE_FILES.matrix, () =>
        parseAutonomyMatrix(bundle.files['matrix.json']),
      ),
    );

  if (built.ok) {
    const report = runPolicyTestCases(bundle);
    errors.push(...report.bundleErrors);
    for (const r of report.results)
      if (!r.passed)
        errors.push(`${r.file ?? 'tests'}: test "${r.name}" failed: ${r.diff.join('; ')}`);
  }
  return errors.length
    ? { ok: false, bundle, errors }
    : { ok: true, bundle, warnings: built.ok ? built.warnings : [] };
}

function configProblems(file: string, parse: () => unknown): string[] {
  try {
    parse();
    return [];
  } catch (err) {
    if (err instanceof BundleConfigError) return err.problems.map((p) => `${file}: ${p}`);
    return [`${file}: ${err instanceof Error ? err.message : String(err)}`];
  }
}
