// The environment variable a supervisor (`npm start`) sets on a child it owns — the hive — so the
// child stops as if sent SIGTERM once that supervisor is gone, even when it died by SIGKILL and
// could not stop the child itself. Its value is the supervisor's pid; set by
// scripts/local-cloud/hive-process.ts, read by hive/cli.ts.
import { z } from "zod";

export const EXIT_WITH_PARENT_ENV = "RBEE_EXIT_WITH_PARENT";

const ParentPid = z.coerce.number().int().min(1);

/**
 * The pid the process should exit with, or undefined when the variable is unset or empty. A value
 * that is not a pid throws: a supervisor that asked for this and got it wrong would otherwise
 * leave the orphans it meant to prevent.
 */
export function exitWithParentPid(env: Record<string, string | undefined>): number | undefined {
  const raw = env[EXIT_WITH_PARENT_ENV];
  if (raw === undefined || raw === "") return undefined;
  const parsed = ParentPid.safeParse(raw);
  if (!parsed.success) throw new Error(`${EXIT_WITH_PARENT_ENV}: expected the parent's pid (a positive integer), got '${raw}'`);
  return parsed.data;
}
