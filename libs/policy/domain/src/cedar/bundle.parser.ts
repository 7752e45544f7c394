import { policySetTextToParts, policyToJson } from '@cedar-policy/cedar-wasm/nodejs';
import { parseAgentProfiles } from './agent-profiles';
import { bundleContentHash } from './bundle-content-hash';
import { formatCedarError } from './cedar-errors';
import {
  BUNDLE_FILES,
  CARRIED_JSON_FILES,
  type BundleManifest,
  type BundlePolicy,
  type CarriedJsonFile,
  type PolicyBundle,
} from './policy-bundle.model';
import { parsePolicyTestFile, type PolicyTestCase } from './policy-test-case';

const POLICY_FILE = /^policies\/[^/]+\.cedar$/;
const TEST_FILE = /^tests\/[^/]+\.(ya?ml|json)$/i;
/** Documentation at the bundle root is carried (and hashed) but has no meaning to the engine. */
const DOC_FILE = /^[^/]+\.md$/i;

/**
 * Parses a bundle from its files (posix path → text), as read from a directory or from MongoDB.
 * Pure: never throws and never touches I/O; anything wrong is collected in `problems`, which
 * `validateBundle` reports (a bundle with problems is refused).
 */
export function parseBundle(files: Readonly<Record<string, string>>): PolicyBundle {
  const problems: string[] = [];
  const sources: Record<string, string> = {};
  for (const [path, text] of Object.entries(files)) {
    if (typeof text !== 'string') problems.push(`${path}: not text`);
    else sources[path] = text;
  }

  const known = (p: string) =>
    p === BUNDLE_FILES.manifest ||
    p === BUNDLE_FILES.schema ||
    (CARRIED_JSON_FILES as readonly string[]).includes(p) ||
    POLICY_FILE.test(p) ||
    TEST_FILE.test(p) ||
    DOC_FILE.test(p);
  for (const path of Object.keys(sources).sort()) {
    if (!known(path)) problems.push(`${path}: unexpected file in a bundle`);
  }

  const manifest = parseManifest(sources[BUNDLE_FILES.manifest], problems);

  const schemaText = sources[BUNDLE_FILES.schema];
  if (schemaText === undefined) problems.push(`${BUNDLE_FILES.schema}: missing`);

  const policyFiles = Object.keys(sources)
    .filter((p) => POLICY_FILE.test(p))
    .sort();
  if (policyFiles.length === 0) problems.push('policies/*.cedar: no policy file');
  const policies = policyFiles.flatMap((file) => parsePolicyFile(file, sources[file], problems));

  const parsedFiles = {} as Record<CarriedJsonFile, unknown>;
  for (const name of CARRIED_JSON_FILES) {
    parsedFiles[name] = parseJsonFile(name, sources[name], problems);
  }
  const agentsResult =
    parsedFiles[BUNDLE_FILES.agents] === undefined
      ? { agents: [], problems: [] }
      : parseAgentProfiles(parsedFiles[BUNDLE_FILES.agents]);
  problems.push(...agentsResult.problems);

  const tests: PolicyTestCase[] = [];
  for (const file of Object.keys(sources)
    .filter((p) => TEST_FILE.test(p))
    .sort()) {
    const parsed = parsePolicyTestFile(file, sources[file]);
    tests.push(...parsed.cases);
    problems.push(...parsed.problems);
  }

  return {
    manifest,
    contentHash: bundleContentHash(sources),
    sources,
    schemaText: schemaText ?? '',
    policies,
    files: parsedFiles,
    agents: agentsResult.agents,
    tests,
    problems,
  };
}

const MANIFEST_FIELDS: Array<keyof BundleManifest> = [
  'name',
  'version',
  'author',
  'approver',
  'createdAt',
  'description',
];

function parseManifest(text: string | undefined, problems: string[]): BundleManifest {
  const manifest: BundleManifest = {
    name: '',
    version: '',
    author: '',
    approver: '',
    createdAt: '',
    description: '',
  };
  const json = parseJsonFile(BUNDLE_FILES.manifest, text, problems);
  if (json === undefined) return manifest;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.push(`${BUNDLE_FILES.manifest}: expected an object`);
    return manifest;
  }
  const record = json as Record<string, unknown>;
  for (const field of MANIFEST_FIELDS) {
    const value = record[field];
    if (typeof value === 'string') manifest[field] = value;
    else problems.push(`${BUNDLE_FILES.manifest}: "${field}" must be a string`);
  }
  return manifest;
}

function parseJsonFile(name: string, text: string | undefined, problems: string[]): unknown {
  if (text === undefined) {
    problems.push(`${name}: missing`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    problems.push(`${name}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** Splits one .cedar file into its policies and reads each one's effect and annotations. */
function parsePolicyFile(file: string, text: string, problems: string[]): BundlePolicy[] {
  const parts = policySetTextToParts(text);
  if (parts.type === 'failure') {
    for (const err of parts.errors) problems.push(`${file}: ${formatCedarError(err, text)}`);
    return [];
  }
  if (parts.policy_templates.length > 0)
    problems.push(`${file}: policy templates are not supported in bundles`);
  const policies: BundlePolicy[] = [];
  parts.policies.forEach((policyText, i) => {
    const json = policyToJson(policyText);
    if (json.type === 'failure') {
      for (const err of json.errors) problems.push(`${file}: ${formatCedarError(err, policyText)}`);
      return;
    }
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(json.json.annotations ?? {})) annotations[k] = v ?? '';
    policies.push({
      id: annotations['id'] ?? `${file}#${i}`,
      effect: json.json.effect,
      annotations,
      text: policyText,
      file,
    });
  });
  // Keep the order of the file (the splitter sorts by generated ids).
  return policies.sort((a, b) => text.indexOf(a.text) - text.indexOf(b.text));
}
