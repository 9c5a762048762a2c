// The hive's `connect` options: flags and environment parsed and validated once, with errors
// that name the flag, then passed on as one typed object.
import { parseArgs } from "node:util";
import { z } from "zod";
import { HiveName } from "../shared/protocol/hive-name.js";

export const DEFAULTS = {
  /** Queen to connect to (env RBEE_QUEEN_URL). */
  queenUrl: "http://127.0.0.1:7833",
  /** Hive name (env RBEE_HIVE_NAME); defaults to the machine's host name. */
  name: undefined,
  /** First reconnect delay ceiling, ms. */
  reconnectBaseMs: 500,
  /** Largest reconnect delay, ms. */
  reconnectMaxMs: 30_000,
  /** How long a worker being deleted may drain after SIGTERM before SIGKILL, ms (env RBEE_WORKER_STOP_GRACE_MS). */
  workerStopGraceMs: 10_000,
} as const;

const ConnectOptions = z.object({
  queenUrl: z.url({ protocol: /^(https?|wss?)$/, error: "must be an http(s):// or ws(s):// URL" }),
  token: z.string({ error: "is required (or set RBEE_HIVE_TOKEN)" }).min(1, "must not be empty"),
  name: HiveName,
  workerThreads: z.coerce.number().int().positive().optional(),
  workerStopGraceMs: z.coerce.number().int().min(0).max(600_000).default(DEFAULTS.workerStopGraceMs),
});
export type ConnectOptions = z.infer<typeof ConnectOptions>;

const FLAG_FOR_KEY: Record<string, string> = {
  queenUrl: "--queen",
  token: "--token",
  name: "--name",
  workerThreads: "--worker-threads",
  workerStopGraceMs: "--worker-stop-grace-ms",
};

export const CONNECT_USAGE = `Usage: rbee-hive connect --queen <url> --token <token> [--name <name>] [--worker-threads <n>]

Opens one outbound WebSocket to the queen and runs the workers it asks for.

  --queen <url>           queen base URL (env RBEE_QUEEN_URL, default ${DEFAULTS.queenUrl})
  --token <token>         this hive's token from POST /v1/hives (env RBEE_HIVE_TOKEN)
  --name <name>           this hive's name (env RBEE_HIVE_NAME, default: host name)
  --worker-threads <n>    CPU threads per worker (default: all cores)
  --worker-stop-grace-ms <ms>
                          how long a deleted worker may drain after SIGTERM before SIGKILL
                          (env RBEE_WORKER_STOP_GRACE_MS, default ${DEFAULTS.workerStopGraceMs})
  -h, --help              show this help`;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function parseConnectOptions(argv: string[], env: NodeJS.ProcessEnv, hostName: string): ConnectOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        queen: { type: "string" },
        token: { type: "string" },
        name: { type: "string" },
        "worker-threads": { type: "string" },
        "worker-stop-grace-ms": { type: "string" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const result = ConnectOptions.safeParse({
    queenUrl: values.queen ?? env.RBEE_QUEEN_URL ?? DEFAULTS.queenUrl,
    token: values.token ?? env.RBEE_HIVE_TOKEN,
    name: values.name ?? env.RBEE_HIVE_NAME ?? sanitizeHostName(hostName),
    workerThreads: values["worker-threads"],
    workerStopGraceMs: values["worker-stop-grace-ms"] ?? env.RBEE_WORKER_STOP_GRACE_MS,
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    throw new UsageError(`${FLAG_FOR_KEY[key] ?? key}: ${issue?.message ?? "invalid"}`);
  }
  return result.data;
}

/** Host names may hold characters a hive name can't; keep the safe ones. */
function sanitizeHostName(hostName: string): string {
  return hostName.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64) || "hive";
}
