/** Base class of every error the prompt registry raises on purpose. */
export class PromptRegistryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The proposed content (or an id, actor or reason) is malformed; nothing was written. */
export class PromptValidationError extends PromptRegistryError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid prompt: ${problems.join('; ')}`);
  }
}

/** No such prompt id or version. */
export class PromptNotFoundError extends PromptRegistryError {
  constructor(
    readonly promptId: string,
    readonly version?: number,
  ) {
    super(
      version === undefined
        ? `prompt "${promptId}" does not exist`
        : `prompt "${promptId}" has no version ${version}`,
    );
  }
}

/** The prompt exists but no version of it is active (never activated, or retired). */
export class NoActivePromptError extends PromptRegistryError {
  constructor(readonly promptId: string) {
    super(`prompt "${promptId}" has no active version`);
  }
}

/**
 * A transition the lifecycle forbids: the two-person rule (an author may not approve,
 * activate or roll back to their own version), a wrong status, a missing reason.
 */
export class PromptLifecycleError extends PromptRegistryError {
  constructor(
    readonly promptId: string,
    readonly version: number,
    message: string,
  ) {
    super(`${promptId}@${version}: ${message}`);
  }
}

/**
 * Someone else changed the prompt's active version (or the version) while this operation ran;
 * nothing of this operation was applied. Re-read and decide again.
 */
export class PromptConflictError extends PromptRegistryError {
  constructor(
    readonly promptId: string,
    message: string,
  ) {
    super(`${promptId}: ${message}`);
  }
}

/** A stored version's content no longer matches its content hash (corruption or tampering). */
export class PromptIntegrityError extends PromptRegistryError {
  constructor(
    readonly promptId: string,
    readonly version: number,
  ) {
    super(`${promptId}@${version}: stored content does not match its content hash`);
  }
}

/** `renderPrompt` was given missing, undeclared or non-string variables. */
export class PromptRenderError extends PromptRegistryError {
  constructor(
    readonly promptId: string,
    readonly version: number,
    readonly problems: readonly string[],
  ) {
    super(`cannot render ${promptId}@${version}: ${problems.join('; ')}`);
  }
}

/** A seed file (or the seed directory) is malformed; nothing was written. */
export class PromptSeedError extends PromptRegistryError {
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`prompt seed refused: ${problems.join('; ')}`, options);
  }
}
