// The error the `rbee` CLI exits with: a code a script can act on, the exit status that tells
// the kind of failure apart, and a message that says what to do next.

/** Exit statuses of `rbee`: 1 the queen refused or failed, 2 a usage error, 3 no queen or no access. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;
export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override readonly name = "CliError";

  constructor(
    readonly exitStatus: ExitStatus,
    /** Machine-readable, e.g. `queen_unreachable` or the queen's own error code. */
    readonly code: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}
