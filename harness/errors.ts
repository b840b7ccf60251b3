// Errors that end a command with a clear message. Each says what is wrong, where, and how to fix
// it; the CLI prints the message and exits with `exitCode` (2 = bad usage, config or input).

/** Bad usage, configuration or input: exit 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** A dataset or input file that fails validation: exit 2, nothing is run on it. */
export class InputError extends Error {
  readonly exitCode = 2;
}

/** A native dependency that is missing or does not load: exit 2, with how to install it. */
export class DependencyError extends Error {
  readonly exitCode = 2;
}

/** The exit code an error asks for: its own `exitCode` when it has one (2), else 1. */
export function exitCodeOf(err: unknown): number {
  const code = (err as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' ? code : 1;
}
