import type { AgentProfile } from '../engine/decision-input';
import type { PolicyTestCase } from './policy-test-case';

/** File names inside a bundle (posix paths relative to the bundle root). */
export const BUNDLE_FILES = {
  manifest: 'bundle.json',
  schema: 'schema.cedarschema',
  risk: 'risk.json',
  matrix: 'matrix.json',
  agents: 'agents.json',
} as const;

/** JSON files the bundle carries for other parts of the engine (risk model, autonomy matrix, agents). */
export const CARRIED_JSON_FILES = [
  BUNDLE_FILES.risk,
  BUNDLE_FILES.matrix,
  BUNDLE_FILES.agents,
] as const;
export type CarriedJsonFile = (typeof CARRIED_JSON_FILES)[number];

/** The Cedar namespace every bundle's schema must declare. */
export const CEDAR_NAMESPACE = 'Mandate';

/** `bundle.json`: who wrote the bundle, who approved it, and when. */
export interface BundleManifest {
  name: string;
  /** Semver-like, e.g. "1.4.0"; with the content hash it identifies the bundle. */
  version: string;
  author: string;
  /** Must differ from the author (four eyes on policy changes). */
  approver: string;
  /** ISO 8601. */
  createdAt: string;
  description: string;
}

/** One Cedar policy of the bundle, keyed by its `@id`. */
export interface BundlePolicy {
  /** The `@id` annotation (a placeholder `<file>#<n>` when missing; validation refuses that). */
  id: string;
  effect: 'permit' | 'forbid';
  /** Every annotation, including `id`, `reason` (forbid) and `obligation` (permit). */
  annotations: Record<string, string>;
  /** The policy's Cedar text. */
  text: string;
  /** File it came from, e.g. "policies/40-discounts.cedar". */
  file: string;
}

/** What identifies a bundle: its version and its content hash. */
export interface BundleIdentity {
  name: string;
  version: string;
  contentHash: string;
}

/**
 * A parsed policy bundle. `sources` is what MongoDB stores and what the hash covers; everything
 * else is derived from it. A bundle is only usable after `validateBundle` accepted it.
 */
export interface PolicyBundle {
  manifest: BundleManifest;
  /** "sha256:<hex>" over every file (see `bundleContentHash`). */
  contentHash: string;
  /** Every file of the bundle as text, by posix path. */
  sources: Readonly<Record<string, string>>;
  schemaText: string;
  policies: BundlePolicy[];
  /** risk.json, matrix.json and agents.json, parsed (undefined when missing or unparsable). */
  files: Record<CarriedJsonFile, unknown>;
  /** Agent profiles from agents.json. */
  agents: AgentProfile[];
  /** Policy test cases from tests/*.yaml|yml|json. */
  tests: PolicyTestCase[];
  /** Problems found while parsing; `validateBundle` refuses a bundle that has any. */
  problems: string[];
}

export function bundleIdentity(bundle: PolicyBundle): BundleIdentity {
  return {
    name: bundle.manifest.name,
    version: bundle.manifest.version,
    contentHash: bundle.contentHash,
  };
}
