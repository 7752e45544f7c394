import * as path from 'node:path';
import {
  addProjectConfiguration,
  formatFiles,
  generateFiles,
  getProjects,
  logger,
  names,
  offsetFromRoot,
  readJson,
  updateJson,
  type GeneratorCallback,
  type Tree,
} from '@nx/devkit';

/** The options of `nx g ./tools/nx-plugin:adapter` (schema.json). */
export interface AdapterGeneratorSchema {
  /** The CRM's name in kebab case, e.g. "acme-crm". */
  readonly name: string;
  /** Where the lib goes, relative to the workspace root (default libs/connectors/<name>). */
  readonly directory?: string;
  /** How the CRM's changes reach Mandate (default polling). */
  readonly changeFeed?: ChangeFeed;
}

export type ChangeFeed = 'polling' | 'webhook';
export const CHANGE_FEEDS: readonly ChangeFeed[] = ['polling', 'webhook'];

/** Kebab case: lower-case letters and digits, words separated by single hyphens. */
export const ADAPTER_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** The name is the connector name of the capabilities, which allow at most 32 characters. */
export const MAX_ADAPTER_NAME_LENGTH = 32;

export const ADAPTER_TAGS = ['type:adapter', 'scope:crm-connectors'];
const ROOT_TSCONFIG = 'tsconfig.base.json';

export interface NormalizedAdapterOptions {
  readonly name: string;
  readonly directory: string;
  readonly changeFeed: ChangeFeed;
  /** Nx project name: connector-<name>. */
  readonly projectName: string;
  /** Path alias of the lib: @mandate/connector-<name> (and …/testing). */
  readonly importPath: string;
}

/** The options checked and completed; throws an Error saying what is wrong and what is expected. */
export function normalizeOptions(
  tree: Tree,
  options: AdapterGeneratorSchema,
): NormalizedAdapterOptions {
  const name = assertAdapterName(options.name);
  const changeFeed = options.changeFeed ?? 'polling';
  if (!CHANGE_FEEDS.includes(changeFeed))
    throw new Error(
      `Invalid --changeFeed "${String(changeFeed)}": expected ${CHANGE_FEEDS.join(' or ')}.`,
    );
  const directory = normalizeDirectory(options.directory ?? `libs/connectors/${name}`);
  const projectName = `connector-${name}`;
  const importPath = `@mandate/connector-${name}`;
  if (tree.exists(directory))
    throw new Error(`Cannot create the adapter in ${directory}: it already exists.`);
  const clash = [...getProjects(tree)].find(([n]) => n === projectName);
  if (clash)
    throw new Error(
      `Cannot create project ${projectName}: a project of that name already exists in ${clash[1].root}.`,
    );
  if (!tree.exists(ROOT_TSCONFIG))
    throw new Error(`Cannot add path aliases: ${ROOT_TSCONFIG} not found at the workspace root.`);
  const paths = readJson<TsConfig>(tree, ROOT_TSCONFIG).compilerOptions?.paths ?? {};
  for (const alias of [importPath, `${importPath}/testing`])
    if (alias in paths)
      throw new Error(
        `Cannot add path alias ${alias}: ${ROOT_TSCONFIG} already maps it to ${paths[alias].join(', ')}.`,
      );
  return { name, directory, changeFeed, projectName, importPath };
}

/** The name, if it is a valid adapter name; otherwise an Error explaining the rule. */
export function assertAdapterName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '')
    throw new Error(
      'Missing --name: the CRM\'s name in kebab case, e.g. "nx g ./tools/nx-plugin:adapter --name=acme-crm".',
    );
  if (!ADAPTER_NAME_PATTERN.test(name))
    throw new Error(
      `Invalid adapter name "${name}": use kebab case (lower-case letters and digits, words ` +
        `separated by single hyphens, starting with a letter), e.g. "acme-crm".`,
    );
  if (name.length > MAX_ADAPTER_NAME_LENGTH)
    throw new Error(
      `Invalid adapter name "${name}": at most ${MAX_ADAPTER_NAME_LENGTH} characters (it is the ` +
        `connector name the adapter declares in its capabilities).`,
    );
  return name;
}

function normalizeDirectory(directory: string): string {
  const normalized = path.posix.normalize(directory.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (
    path.posix.isAbsolute(normalized) ||
    /^[A-Za-z]:/.test(normalized) ||
    normalized === '.' ||
    normalized === '' ||
    normalized.split('/').includes('..')
  )
    throw new Error(
      `Invalid --directory "${directory}": expected a path relative to the workspace root and ` +
        `inside it, e.g. "libs/connectors/acme-crm".`,
    );
  return normalized;
}

interface TsConfig {
  compilerOptions?: { paths?: Record<string, string[]> };
}

/**
 * Scaffolds `connector-<name>`: a ConnectorAdapter with well-formed placeholder capabilities and
 * methods that throw `notImplemented`, an in-memory fake of the CRM, the conformance harness and
 * the kit's spec (structural checks pass at once; behavioural ones fail until implemented), the
 * project configuration and the `@mandate/connector-<name>` aliases.
 */
export async function adapterGenerator(
  tree: Tree,
  options: AdapterGeneratorSchema,
): Promise<GeneratorCallback> {
  const o = normalizeOptions(tree, options);
  addProjectConfiguration(tree, o.projectName, {
    root: o.directory,
    projectType: 'library',
    sourceRoot: `${o.directory}/src`,
    tags: [...ADAPTER_TAGS],
    targets: {
      test: { command: `jest -c jest.config.js ${o.directory}` },
      lint: { command: `eslint ${o.directory}` },
    },
  });
  const n = names(o.name);
  generateFiles(tree, path.join(__dirname, 'files'), o.directory, {
    name: o.name,
    className: n.className,
    propertyName: n.propertyName,
    constantName: n.constantName,
    changeFeed: o.changeFeed,
    directory: o.directory,
    projectName: o.projectName,
    importPath: o.importPath,
    offset: offsetFromRoot(o.directory),
  });
  updateJson<TsConfig>(tree, ROOT_TSCONFIG, (json) => {
    json.compilerOptions ??= {};
    json.compilerOptions.paths = {
      ...json.compilerOptions.paths,
      [o.importPath]: [`${o.directory}/src/index.ts`],
      [`${o.importPath}/testing`]: [`${o.directory}/src/testing/index.ts`],
    };
    return json;
  });
  await formatFiles(tree);
  return () =>
    logger.info(
      [
        `${o.projectName} scaffolded in ${o.directory}.`,
        `Its conformance spec passes the structural checks and fails the behavioural ones until`,
        `the adapter is implemented: npx jest -c jest.config.js ${o.directory}`,
        `Start with ${o.directory}/README.md.`,
      ].join('\n'),
    );
}

export default adapterGenerator;
