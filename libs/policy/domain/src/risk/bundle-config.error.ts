/**
 * A policy-bundle file (risk.json, matrix.json) that does not validate. Lists every problem at
 * once, each with its JSON path, so an operator fixes the file in one pass; a bundle that fails
 * to parse is never half-loaded.
 */
export class BundleConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BundleConfigError';
  }
}

/** Collects problems while walking an untrusted JSON value. */
export class ProblemList {
  readonly problems: string[] = [];

  add(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  throwIfAny(file: string): void {
    if (this.problems.length) throw new BundleConfigError(file, this.problems);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A number within [min, max], or a problem. */
export function readNumber(
  problems: ProblemList,
  path: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    problems.add(path, `must be a number within ${min}..${max}, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

export function readNonEmptyString(
  problems: ProblemList,
  path: string,
  value: unknown,
): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.add(path, `must be a non-empty string, got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

/** Reports keys of `obj` not in `allowed` (typos in a policy file must not pass silently). */
export function rejectUnknownKeys(
  problems: ProblemList,
  path: string,
  obj: Record<string, unknown>,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      problems.add(`${path}.${key}`, `unknown key (expected one of: ${allowed.join(', ')})`);
  }
}
