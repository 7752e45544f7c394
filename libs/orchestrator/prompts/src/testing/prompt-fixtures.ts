import { InMemoryDocumentStore, type DocumentStore } from '@mandate/storage';
import {
  PROMPT_POINTERS,
  PROMPT_VERSIONS,
  type PromptPointerDoc,
  type PromptVersionDoc,
} from '../prompt.collections';
import { PromptRegistry, type PromptRegistryOptions } from '../prompt-registry';
import type { PromptContent } from '../prompt.model';

export interface PromptRegistryHarness {
  readonly registry: PromptRegistry;
  readonly versions: InMemoryDocumentStore<PromptVersionDoc>;
  readonly pointers: InMemoryDocumentStore<PromptPointerDoc>;
}

/**
 * A registry over fresh in-memory stores. `wrap` lets a test put a decorator (a barrier, a
 * failing write) between the registry and a store.
 */
export function inMemoryPromptRegistry(
  options: PromptRegistryOptions & {
    wrapVersions?: (s: DocumentStore<PromptVersionDoc>) => DocumentStore<PromptVersionDoc>;
    wrapPointers?: (s: DocumentStore<PromptPointerDoc>) => DocumentStore<PromptPointerDoc>;
  } = {},
): PromptRegistryHarness {
  const versions = new InMemoryDocumentStore(PROMPT_VERSIONS);
  const pointers = new InMemoryDocumentStore(PROMPT_POINTERS);
  const registry = new PromptRegistry(
    {
      versions: options.wrapVersions ? options.wrapVersions(versions) : versions,
      pointers: options.wrapPointers ? options.wrapPointers(pointers) : pointers,
    },
    options,
  );
  return { registry, versions, pointers };
}

/** A small valid prompt; `system` varies the content. */
export function sampleContent(
  system = 'You qualify leads.',
  extra: Partial<PromptContent> = {},
): PromptContent {
  return {
    template: {
      system: `${system}\nRules: {{tenant_rules}}`,
      user: 'Now: {{now}}\n<<<DATA record\n{{record}}\nDATA>>>',
    },
    variables: ['record', 'now', 'tenant_rules'],
    description: 'Sample prompt',
    ...extra,
  };
}

/** A clock that advances one second per call, so every timestamp is distinct. */
export function steppingClock(start = Date.parse('2030-01-01T00:00:00Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

/**
 * Makes the first `parties` calls of the named methods wait for each other before they reach the
 * store: every caller has done its reads before anyone writes, so the writes really race.
 */
export function withBarrier<T extends { id: string }>(
  store: DocumentStore<T>,
  methods: readonly (keyof DocumentStore<T>)[],
  parties: number,
): DocumentStore<T> {
  let arrived = 0;
  const release: (() => void)[] = [];
  const barrier = (): Promise<void> =>
    new Promise<void>((resolve) => {
      arrived++;
      release.push(resolve);
      if (arrived === parties) release.forEach((r) => r());
    });
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = (value as (...args: unknown[]) => unknown).bind(target);
      if (!(methods as readonly PropertyKey[]).includes(prop)) return fn;
      return async (...args: unknown[]) => {
        if (arrived < parties) await barrier();
        return fn(...args);
      };
    },
  });
}

/** Fails the next call of `method` once `armed()` says so, with `error`. */
export function failingOnce<T extends { id: string }>(
  store: DocumentStore<T>,
  method: keyof DocumentStore<T>,
  armed: () => boolean,
  error: () => Error,
): DocumentStore<T> {
  let failed = false;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = (value as (...args: unknown[]) => unknown).bind(target);
      if (prop !== method) return fn;
      return async (...args: unknown[]) => {
        if (!failed && armed()) {
          failed = true;
          throw error();
        }
        return fn(...args);
      };
    },
  });
}
