import {
  preparsePolicySet,
  preparseSchema,
  statefulIsAuthorized,
} from '@cedar-policy/cedar-wasm/nodejs';
import type { DecisionInput } from '../engine/decision-input';
import { validateBundle, splitList } from './bundle.validator';
import { formatCedarError } from './cedar-errors';
import { mapToCedarRequest } from './cedar-request.mapper';
import { readSchemaModel, type SchemaModel } from './cedar-schema.model';
import type { BundlePolicy, PolicyBundle } from './policy-bundle.model';
import { CedarReason } from './reason-codes';

/** A Cedar policy that determined the answer (the shape of the contract's MatchedPolicy). */
export interface MatchedCedarPolicy {
  id: string;
  effect: 'permit' | 'forbid';
  annotations: Record<string, string>;
}

/**
 * The Cedar layer's answer. `allow` only when Cedar allowed with no evaluation error; then
 * `obligations` lists the matched permits' @obligation values (e.g. "human_review"). On `deny`,
 * `reasonCodes` is never empty: the matched forbids' @reason codes, or one of `CedarReason`.
 */
export interface CedarOutcome {
  decision: 'allow' | 'deny';
  matched: MatchedCedarPolicy[];
  reasonCodes: string[];
  obligations: string[];
  /** Evaluation errors and failure messages (for the explanation; no PII: Cedar's own text). */
  errors: string[];
}

/**
 * Evaluates decision inputs against one validated bundle. The schema and the policy set are
 * parsed once, into Cedar's per-thread cache under ids derived from the content hash; each call
 * only maps the input and runs `statefulIsAuthorized` against the cached ids. Fails closed:
 * `evaluate` never throws and never allows on anything unexpected.
 */
export class CedarEvaluator {
  readonly schemaName: string;
  readonly policySetId: string;
  readonly schema: SchemaModel;
  private readonly policies: ReadonlyMap<string, BundlePolicy>;

  /**
   * Validates the bundle first; the way to build an evaluator from untrusted input (MongoDB,
   * a directory). `BundleRegistry.offer` uses it.
   */
  static fromBundle(
    bundle: PolicyBundle,
  ): { ok: true; evaluator: CedarEvaluator; warnings: string[] } | { ok: false; errors: string[] } {
    const validation = validateBundle(bundle);
    if (!validation.ok) return { ok: false, errors: validation.errors };
    try {
      return { ok: true, evaluator: new CedarEvaluator(bundle), warnings: validation.warnings };
    } catch (err) {
      return { ok: false, errors: [err instanceof Error ? err.message : String(err)] };
    }
  }

  /**
   * Trusts that `bundle` was validated (use `fromBundle` otherwise); throws if Cedar cannot even
   * parse its schema or policies.
   */
  constructor(readonly bundle: PolicyBundle) {
    const model = readSchemaModel(bundle.schemaText);
    if (!model.ok) throw new Error(`schema: ${model.errors.join('; ')}`);
    this.schema = model.model;
    this.policies = new Map(bundle.policies.map((p) => [p.id, p]));
    // Same content, same id: re-preparsing an identical bundle just replaces the cache entry.
    this.schemaName = `mandate-schema:${bundle.contentHash}`;
    this.policySetId = `mandate-policies:${bundle.contentHash}`;
    const schemaAnswer = preparseSchema(this.schemaName, bundle.schemaText);
    if (schemaAnswer.type === 'failure')
      throw new Error(`schema: ${schemaAnswer.errors.map((e) => formatCedarError(e)).join('; ')}`);
    const policyAnswer = preparsePolicySet(this.policySetId, {
      staticPolicies: Object.fromEntries(bundle.policies.map((p) => [p.id, p.text])),
    });
    if (policyAnswer.type === 'failure')
      throw new Error(
        `policies: ${policyAnswer.errors.map((e) => formatCedarError(e)).join('; ')}`,
      );
  }

  evaluate(input: DecisionInput): CedarOutcome {
    try {
      const mapped = mapToCedarRequest(input, this.schema);
      if (!mapped.ok) return denied([mapped.reason], [mapped.detail]);
      const { principal, action, resource, context, entities } = mapped.request;
      const answer = statefulIsAuthorized({
        principal,
        action,
        resource,
        context,
        entities,
        preparsedSchemaName: this.schemaName,
        preparsedPolicySetId: this.policySetId,
        validateRequest: true,
      });
      if (answer.type !== 'success')
        return denied(
          [CedarReason.CEDAR_FAILURE],
          answer.errors.map((e) => formatCedarError(e)),
        );
      const { decision, diagnostics } = answer.response;
      const matched = diagnostics.reason.map((id) => this.matchedPolicy(id));
      const forbidReasons = unique(
        matched
          .filter((p) => p.effect === 'forbid')
          .map((p) => p.annotations['reason'] || CedarReason.FORBIDDEN),
      );
      // Cedar skips a policy whose evaluation errors; if that was a forbid, "allow" is a lie.
      if (diagnostics.errors.length > 0)
        return denied(
          [CedarReason.EVALUATION_ERROR, ...forbidReasons],
          diagnostics.errors.map((e) => `policy "${e.policyId}": ${formatCedarError(e.error)}`),
          matched,
        );
      if (decision === 'allow')
        return {
          decision: 'allow',
          matched,
          reasonCodes: [],
          obligations: unique(
            matched
              .filter((p) => p.effect === 'permit')
              .flatMap((p) => splitList(p.annotations['obligation'] ?? '')),
          ),
          errors: [],
        };
      return denied(forbidReasons.length ? forbidReasons : [CedarReason.NO_PERMIT], [], matched);
    } catch (err) {
      return denied(
        [CedarReason.INTERNAL_ERROR],
        [`evaluator: ${err instanceof Error ? err.message : String(err)}`],
      );
    }
  }

  private matchedPolicy(id: string): MatchedCedarPolicy {
    const policy = this.policies.get(id);
    // Cannot happen with a policy set built from the bundle; an unknown id counts as a forbid.
    if (!policy)
      return { id, effect: 'forbid', annotations: { reason: CedarReason.INTERNAL_ERROR } };
    return { id, effect: policy.effect, annotations: { ...policy.annotations } };
  }
}

/** A deny outcome with the given reason codes (never empty). */
export function deniedOutcome(reasonCodes: string[], errors: string[] = []): CedarOutcome {
  return denied(reasonCodes, errors);
}

function denied(
  reasonCodes: string[],
  errors: string[],
  matched: MatchedCedarPolicy[] = [],
): CedarOutcome {
  return {
    decision: 'deny',
    matched,
    reasonCodes: reasonCodes.length ? reasonCodes : [CedarReason.INTERNAL_ERROR],
    obligations: [],
    errors,
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
