// Public API of @mandate/prompt-registry: content-addressed, versioned prompt templates with a
// two-person lifecycle, rendering, diffs and seeding from the repository's prompts/ directory.
export {
  MAX_ACTOR_CHARS,
  MAX_DESCRIPTION_CHARS,
  MAX_PROMPT_ID_LENGTH,
  MAX_TEMPLATE_PART_CHARS,
  MAX_VARIABLES,
  PROMPT_ID_PATTERN,
  PROMPT_STATUSES,
  SEED_APPROVER,
  SEED_AUTHOR,
  VARIABLE_NAME_PATTERN,
  promptRef,
} from './prompt.model';
export type {
  PromptActivationChange,
  PromptContent,
  PromptPointerChangeKind,
  PromptRollbackRecord,
  PromptStatus,
  PromptTemplate,
  PromptVersion,
} from './prompt.model';
export {
  NoActivePromptError,
  PromptConflictError,
  PromptIntegrityError,
  PromptLifecycleError,
  PromptNotFoundError,
  PromptRegistryError,
  PromptRenderError,
  PromptSeedError,
  PromptValidationError,
} from './prompt.errors';
export {
  CANONICAL_ENCODING,
  canonicalPromptEncoding,
  placeholdersIn,
  promptContentHash,
  validatePromptContent,
} from './prompt-content';
export {
  MAX_POINTER_HISTORY,
  PROMPT_POINTERS,
  PROMPT_TENANT,
  PROMPT_VERSIONS,
  promptVersionDocId,
} from './prompt.collections';
export type {
  PromptPointerChangeDoc,
  PromptPointerDoc,
  PromptVersionDoc,
} from './prompt.collections';
export { PromptRegistry, effectiveStatus, promptDiffText } from './prompt-registry';
export type {
  PromptRegistryOptions,
  PromptRegistryStores,
  PromptSeedResult,
} from './prompt-registry';
export { renderPrompt } from './prompt-renderer';
export type { PromptVariables, RenderedPrompt } from './prompt-renderer';
export { MAX_LCS_CELLS, diffLines, splitLines, unifiedLineDiff } from './line-diff';
export type { DiffLine, UnifiedDiffOptions } from './line-diff';
export { parsePromptFile } from './prompt-file.parser';
export type { ParsedPromptFile } from './prompt-file.parser';
export { PROMPT_FILE_NAME, loadPromptDirectory, seedFromDirectory } from './prompt-seeder';
