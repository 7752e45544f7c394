import { validate } from '@cedar-policy/cedar-wasm/nodejs';
import { readSchemaModel } from './cedar-schema.model';
import { formatCedarError } from './cedar-errors';
import { BUNDLE_FILES, CEDAR_NAMESPACE, type PolicyBundle } from './policy-bundle.model';

export type BundleValidation =
  { ok: true; warnings: string[] } | { ok: false; errors: string[]; warnings: string[] };

const POLICY_ID = /^[a-z0-9][a-z0-9._-]*$/;
const REASON_CODE = /^[A-Z][A-Z0-9_]*$/;
const OBLIGATION = /^[a-z][a-z0-9_]*$/;
const VERSION = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Decides whether a bundle may serve: no parse problems, a complete bundle.json (semver-ish
 * version, ISO createdAt, an approver other than the author), a schema that declares the Mandate
 * namespace with an Agent type, every policy with a unique well-formed @id, every forbid with an
 * @reason code, @obligation only on permits, and the policy set valid against the schema in
 * Cedar's strict mode (which, among other things, refuses any read of an optional attribute not
 * guarded by `has`). Never throws.
 */
export function validateBundle(bundle: PolicyBundle): BundleValidation {
  const errors: string[] = [...bundle.problems];
  const warnings: string[] = [];
  const m = bundle.manifest;
  const mf = BUNDLE_FILES.manifest;
  for (const field of ['name', 'author', 'approver', 'description'] as const)
    if (!m[field].trim()) errors.push(`${mf}: "${field}" is empty`);
  if (!VERSION.test(m.version))
    errors.push(`${mf}: version "${m.version}" is not semver-like (1.2.3)`);
  if (!ISO_INSTANT.test(m.createdAt) || Number.isNaN(Date.parse(m.createdAt)))
    errors.push(`${mf}: createdAt "${m.createdAt}" is not an ISO 8601 instant`);
  if (m.author.trim() && m.author.trim() === m.approver.trim())
    errors.push(`${mf}: the approver must not be the author (four eyes)`);

  const seen = new Map<string, string>();
  for (const p of bundle.policies) {
    const where = `${p.file}: policy ${p.annotations['id'] !== undefined ? `"${p.id}"` : p.id}`;
    if (p.annotations['id'] === undefined) errors.push(`${where}: has no @id`);
    else if (!POLICY_ID.test(p.id))
      errors.push(`${where}: @id must be lower-case letters, digits, '.', '_' or '-'`);
    const first = seen.get(p.id);
    if (first !== undefined) errors.push(`${where}: duplicate @id (first in ${first})`);
    else seen.set(p.id, p.file);
    const reason = p.annotations['reason'];
    if (p.effect === 'forbid') {
      if (reason === undefined) errors.push(`${where}: a forbid needs @reason("CODE")`);
      else if (!REASON_CODE.test(reason))
        errors.push(`${where}: @reason "${reason}" must be UPPER_SNAKE_CASE`);
    }
    const obligation = p.annotations['obligation'];
    if (obligation !== undefined) {
      if (p.effect !== 'permit')
        errors.push(`${where}: @obligation is only meaningful on a permit`);
      for (const o of splitList(obligation))
        if (!OBLIGATION.test(o))
          errors.push(`${where}: obligation "${o}" must be lower_snake_case`);
      if (splitList(obligation).length === 0) errors.push(`${where}: @obligation is empty`);
    }
  }

  if (bundle.sources[BUNDLE_FILES.schema] !== undefined) {
    const schema = readSchemaModel(bundle.schemaText);
    if (!schema.ok) {
      errors.push(...schema.errors.map((e) => `${BUNDLE_FILES.schema}: ${e}`));
    } else {
      if (!schema.model.entityTypes.has(`${CEDAR_NAMESPACE}::Agent`))
        errors.push(`${BUNDLE_FILES.schema}: must declare entity type ${CEDAR_NAMESPACE}::Agent`);
      if (bundle.policies.length > 0 && seen.size === bundle.policies.length) {
        const byId = new Map(bundle.policies.map((p) => [p.id, p]));
        const answer = validate({
          schema: bundle.schemaText,
          policies: {
            staticPolicies: Object.fromEntries(bundle.policies.map((p) => [p.id, p.text])),
          },
          validationSettings: { mode: 'strict' },
        });
        if (answer.type === 'failure') {
          errors.push(...answer.errors.map((e) => `cedar: ${formatCedarError(e)}`));
        } else {
          for (const e of answer.validationErrors) {
            const p = byId.get(e.policyId);
            errors.push(
              `${p?.file ?? '?'}: policy "${e.policyId}": ${formatCedarError(e.error, p?.text)}`,
            );
          }
          for (const w of answer.validationWarnings) {
            const p = byId.get(w.policyId);
            warnings.push(
              `${p?.file ?? '?'}: policy "${w.policyId}": ${formatCedarError(w.error, p?.text)}`,
            );
          }
          warnings.push(...answer.otherWarnings.map((w) => `cedar: ${formatCedarError(w)}`));
        }
      }
    }
  }
  return errors.length ? { ok: false, errors, warnings } : { ok: true, warnings };
}

/** `@obligation("a, b")` lists several obligations. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
