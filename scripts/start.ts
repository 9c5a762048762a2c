// `npm start`: the whole local cloud on this machine — the real queen in workerd, one hive
// connected to it over its WebSocket, and a worker serving a model — until Ctrl-C.
// package.json runs it as `exec node …`: npm starts scripts through `sh -c`, and npm forwards the
// SIGINT and SIGTERM it gets to that shell, which (dash) dies on SIGTERM without passing it on and
// sits on SIGINT; exec makes this process npm's child, so a signal to npm alone stops everything.
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MIN_ADMIN_KEY_LENGTH } from "../shared/admin-key.js";
import { writeTinyLlamaGguf } from "../shared/gguf/tiny-llama.js";
import { checkLogFormat, logMessageOf } from "../shared/log/json-log.js";
import { modelNameFromSource } from "../shared/models/model-name.js";
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from "../shared/protocol/hive-socket-limits.js";
import { ModelName } from "../shared/protocol/worker-heartbeat.js";
import { UsageError } from "../shared/usage-error.js";
import { HiveKeeper } from "./local-cloud/hive-keeper.js";
import { type HiveProcessOptions, startHiveProcess, stopWorkersOfHive } from "./local-cloud/hive-process.js";
import { lockStateFolder } from "./local-cloud/instance-lock.js";
import { givenAdminKey, localAdminKey } from "./local-cloud/local-key.js";
import { childrenNamed, startOrphanGuard } from "./local-cloud/orphan-guard.js";
import { ensurePortFree } from "./local-cloud/port-check.js";
import { QueenClient } from "./local-cloud/queen-client.js";
import { QueenKeeper, type RunningQueen } from "./local-cloud/queen-keeper.js";
import type { LocalQueen, LocalQueenOptions } from "./local-cloud/queen.js";
import { Shutdown } from "./local-cloud/shutdown.js";
import { StartRefused } from "./local-cloud/start-refused.js";

const PROJECT_ROOT = fileURLToPath(new URL("../", import.meta.url));
const DEFAULT_PORT = 7833;
const DEMO_MODEL = "rbee-tiny";
const HIVE_NAME = "local";
/** The executables wrangler runs for the local queen, which do not notice that this process died. */
const QUEEN_PROCESSES = ["workerd", "esbuild"];
/** How long a worker may take to load the model and heartbeat ready, ms. */
const WORKER_READY_TIMEOUT_MS = 120_000;
/**
 * How long the start waits for the queen to start a worker a model's policy keeps (min_workers)
 * before starting one itself, ms: the queen starts it as the hive connects, and it is listed
 * once its process heartbeats, a second or two later.
 */
const POLICY_WORKER_WAIT_MS = 15_000;
/** Heartbeat intervals a worker left running may take to re-attach; the hive waits as long for it (hive/hive.ts). */
const SILENT_WORKER_INTERVALS = 3;
/** Local queen state (D1, Durable Objects), the hive's run folder and the demo model; RBEE_STATE_DIR moves it. */
const STATE_DIR = resolve(process.env.RBEE_STATE_DIR ?? resolve(PROJECT_ROOT, ".rbee"));

const USAGE = `Usage: npm start [-- --model <id>] [--model-name <name>] [--port <n>] [--worker-threads <n>]

  --model <id>            the GGUF to serve: hf:org/repo[:file.gguf | :Q4_K_M], https://…/file.gguf,
                          file:/path/model.gguf or a path; downloads land in the hive's model catalog
                          (~/.cache/rbee/models, env RBEE_CACHE_DIR). Default: the random demo model '${DEMO_MODEL}'
  --model-name <name>     the name clients ask for in \`model\` (letters, digits and . _ : @ -);
                          default: the demo's '${DEMO_MODEL}', else a name made from the model's source
  --port <n>              queen port on 127.0.0.1 (env RBEE_PORT, default ${DEFAULT_PORT})
  --worker-threads <n>    CPU threads for the worker (default: all cores; 1 for the demo model)
Env: RBEE_API_KEY (or RBEE_ADMIN_KEY) sets the API key, which is the queen's admin key: it can
call every route and create narrower keys through /v1/keys, so it must have at least
${MIN_ADMIN_KEY_LENGTH} characters (otherwise one is generated once and kept in the state folder's
admin-key, so it stays the same across restarts);
RBEE_STATE_DIR moves the local state: the queen's, and its hive's socket and worker key (default
.rbee/ in the project); HF_TOKEN and HF_ENDPOINT work as for the Hugging Face tools. One npm
start runs per state folder: a second one beside it needs its own RBEE_STATE_DIR and RBEE_PORT
(both share the model catalog).
Stops everything it started on SIGINT (Ctrl-C), SIGTERM or SIGHUP, or when its parent is gone.
npm passes on SIGINT and SIGTERM only: a SIGHUP sent to npm alone kills npm (status 129), and
everything stops as when its parent is gone.
Exit status: 0 once stopped, 1 when the start failed, 2 for a bad option, 3 when another npm
start holds the state folder or another process the port.`;

/** Exit statuses a script or supervisor can tell apart. 0: stopped by a signal or with its parent. */
const EXIT = { failed: 1, usage: 2, refused: 3 } as const;

function fail(message: string): never {
  console.error(`npm start: ${message}\n\n${USAGE}`);
  process.exit(EXIT.usage);
}

/** Another instance holds the state folder, or something holds the port: say which and what to do. */
function refuse(error: unknown): never {
  if (!(error instanceof StartRefused)) throw error;
  console.error(`npm start: ${error.message}`);
  process.exit(EXIT.refused);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: { model: { type: "string" }, "model-name": { type: "string" }, port: { type: "string" }, "worker-threads": { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  // Named as the user gave it: a bad RBEE_PORT reported as `--port` sends them looking for a flag they never passed.
  const portFrom = values.port === undefined && process.env.RBEE_PORT !== undefined ? "RBEE_PORT" : "--port";
  const portText = values.port ?? process.env.RBEE_PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${portFrom}: expected an integer 1–65535, got '${portText}'`);
  const threadsText = values["worker-threads"];
  const workerThreads = threadsText === undefined ? undefined : Number(threadsText);
  if (workerThreads !== undefined && (!Number.isInteger(workerThreads) || workerThreads < 1)) {
    fail(`--worker-threads: expected a positive integer, got '${threadsText}'`);
  }
  try {
    givenAdminKey(process.env); // read again when the queen starts; checked here to refuse before anything starts
    checkLogFormat(process.env); // the hive's and the worker's format
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    fail(error.message);
  }
  const modelName = values["model-name"];
  if (modelName !== undefined) {
    const checked = ModelName.safeParse(modelName);
    if (!checked.success) fail(`--model-name: '${modelName}' ${checked.error.issues[0]?.message ?? "is not a model name"}`);
  }
  return { model: values.model, modelName, port, workerThreads };
}

/** The model to serve: the user's GGUF, or the generated demo model. */
async function resolveModel(model: string | undefined): Promise<{ name: string; source: string; demo: boolean }> {
  if (model === undefined) {
    const path = resolve(STATE_DIR, "models", `${DEMO_MODEL}.gguf`);
    if (!existsSync(path)) await writeTinyLlamaGguf(path);
    return { name: DEMO_MODEL, source: pathToFileURL(path).href, demo: true };
  }
  if (model.startsWith("hf:") || model.startsWith("https://")) {
    // The hive downloads it into its catalog before the worker starts (progress in its log).
    return { name: modelNameFromSource(model), source: model, demo: false };
  }
  if (!model.startsWith("file:") && !isAbsolute(model) && !model.startsWith(".")) {
    fail(`--model: expected hf:org/repo[:file.gguf], https://…/file.gguf, file:/path/model.gguf or a path, got '${model}'`);
  }
  const path = resolve(model.startsWith("file:") ? model.slice("file:".length).replace(/^\/\/(?=\/)/, "") : model);
  if (!existsSync(path)) fail(`--model: no file at '${path}'`);
  const source = pathToFileURL(path).href;
  return { name: modelNameFromSource(source), source, demo: false };
}

/** Gets the model into the hive's catalog, starts a worker for it and waits until it is ready. */
async function startWorker(client: QueenClient, model: { name: string; source: string; demo: boolean }): Promise<void> {
  if (!model.demo) {
    // Downloads can take longer than one HTTP request may wait: fetch first, following the job.
    console.log(`getting '${model.source}' into the hive's model catalog…`);
    const end = await client.runJob({ operation: "model_download", hive: HIVE_NAME, model: model.source });
    if (end.type !== "done") throw new Error(`could not get the model: ${end.code ?? end.type}: ${end.message ?? ""}`);
  }
  await shutdown.checkpoint();
  // A policy's min_workers are the queen's to start, as soon as the hive is there: one started
  // here too would run beside them, past the policy's max_workers. Where the queen starts none
  // (it knows no source for the model under this name), this start does.
  if ((await client.minWorkersOf(model.name)) > 0) {
    const policyWorker = await client.findWorkerOf(model.name, POLICY_WORKER_WAIT_MS);
    if (policyWorker !== undefined) {
      console.log(`the policy of '${model.name}' keeps workers running, and the queen started ${policyWorker}: waiting for it to be ready…`);
      await client.waitForWorkerReady(policyWorker, WORKER_READY_TIMEOUT_MS);
      return;
    }
  }
  console.log(`starting a worker for '${model.name}'…`);
  const worker = await client.spawnWorker({ hive: HIVE_NAME, model: model.name, source: model.source });
  await client.waitForWorkerReady(worker.id, WORKER_READY_TIMEOUT_MS);
}

const options = parseOptions();
const shutdown = new Shutdown();
shutdown.ownSignals();
shutdown.exitWithParent();
const lock = await lockStateFolder(STATE_DIR, `http://127.0.0.1:${options.port}`, (line) => console.log(line)).catch(refuse);
shutdown.add("the state folder's lock", () => lock.release());
await ensurePortFree(options.port).catch(async (error: unknown) => {
  await lock.release();
  refuse(error);
});
const resolved = await resolveModel(options.model);
const model = { ...resolved, name: options.modelName ?? resolved.name };
// The printed key is the queen's bootstrap admin key (RBEE_ADMIN_KEY): it serves inference and
// administration alike, so a local user needs only this one. Kept in the state folder: the same after a restart.
const apiKey = await localAdminKey(STATE_DIR, process.env);

console.log("starting the queen (workerd)…");
// Imported only now: loading wrangler takes seconds, and a start that is refused is refused at once.
const { startLocalQueen } = await import("./local-cloud/queen.js");
const queenOptions: LocalQueenOptions = {
  persistDir: resolve(STATE_DIR, "queen"),
  adminKey: apiKey,
  port: options.port,
  // The queen's console.log lines too: its request log (one JSON line per inference request, which
  // its request_id finds) beside the hive's line per relayed request, as the README promises.
  logLevel: "log",
  logLine: (line) => console.log(`[queen] ${line}`),
};
const queenStarting = startLocalQueen(queenOptions);
/** Once the cloud is up: starts the queen again should its workerd exit. */
let queenKeeper: QueenKeeper | undefined;
// A signal while workerd starts waits for it to be up, then stops it: never left behind.
shutdown.add("the queen", async () => (queenKeeper ? queenKeeper.stop() : (await queenStarting.catch(() => undefined))?.dispose()));
const queen = await queenStarting.catch((error: Error) => {
  if (error instanceof StartRefused) {
    console.error(`npm start: ${error.message}`);
    return shutdown.run("error", EXIT.refused);
  }
  console.error(`npm start: the queen did not start on port ${options.port}: ${error.message} (is the port in use? set RBEE_PORT)`);
  return shutdown.run("error", EXIT.failed);
});
await shutdown.checkpoint();
// Should this process die without stopping workerd (and esbuild's service), the guard does.
// The hive is not guarded: it stops by itself, and its workers with it.
const guard = startOrphanGuard();
shutdown.add("the queen's guard", () => guard.disarm());
await guard.guardChildrenNamed(...QUEEN_PROCESSES);

const client = new QueenClient(queen.url, apiKey);
/** Once the cloud is up: starts the hive again should it exit. */
let keeper: HiveKeeper | undefined;
try {
  const { token } = await client.createHive(HIVE_NAME);
  await shutdown.checkpoint();
  const hiveOptions: HiveProcessOptions = {
    queenUrl: queen.url,
    name: HIVE_NAME,
    token,
    // The hive's channel socket and worker key in this state folder, the catalogs in the shared
    // cache: an npm start beside this one (its own state folder) runs a hive of the same name,
    // and a worker a crashed start left running re-attaches only to the next start of this folder.
    runDir: resolve(STATE_DIR, "hive"),
    workerThreads: options.workerThreads ?? (model.demo ? 1 : undefined),
    // `npm start` owns its workers: Ctrl-C stops them (a standalone hive leaves them for its restart).
    stopWorkersOnExit: true,
    // And, should this process die without stopping the hive, the hive stops by itself.
    exitWithParent: true,
    // The hive logs JSON lines to this pipe; what a person reads of each is its message.
    onLine: (line) => console.log(`[hive] ${logMessageOf(line)}`),
  };
  const hive = startHiveProcess(hiveOptions);
  shutdown.add("the hive", () => (keeper ?? hive).stop()); // the hive stops the workers it started before it exits
  await hive.welcomed;
  await guard.guardChildrenNamed(...QUEEN_PROCESSES); // the queen welcomed the hive: every workerd is up
  // A previous npm start that died without stopping its worker (a crash, SIGKILL) left it running
  // with the model loaded; it re-attaches to this hive within a few heartbeats. Serve with it
  // rather than load a second copy beside it (which on a GPU may not even fit).
  const returning = await client.findReturningWorker(hive.workersAtStart, model.name, SILENT_WORKER_INTERVALS * DEFAULT_HEARTBEAT_INTERVAL_MS);
  if (returning !== undefined) {
    console.log(`reusing worker ${returning}, which the previous npm start left running with '${model.name}'`);
    await client.waitForWorkerReady(returning, WORKER_READY_TIMEOUT_MS);
  } else {
    await startWorker(client, model);
  }
  const runningQueen = async (queen: LocalQueen): Promise<RunningQueen> => {
    await guard.guardChildrenNamed(...QUEEN_PROCESSES);
    return { queen, pids: await childrenNamed(["workerd"]) };
  };
  queenKeeper = new QueenKeeper(await runningQueen(queen), {
    start: async () => runningQueen(await startLocalQueen(queenOptions)),
    log: (line) => console.log(line),
    giveUp: (reason) => {
      console.error(`npm start: ${reason}`);
      void shutdown.run("error", EXIT.failed);
    },
  });
  keeper = new HiveKeeper(hive, {
    start: () => startHiveProcess(hiveOptions),
    log: (line) => console.log(line),
    giveUp: (reason) => {
      console.error(`npm start: ${reason}`);
      // A hive given up on stops no workers: stopped here, none is left holding the model's memory.
      void stopWorkersOfHive(hiveOptions, (line) => console.log(`npm start: ${line}`))
        .catch((error: unknown) => console.error(`npm start: could not stop the hive's workers: ${(error as Error).message}`))
        .finally(() => shutdown.run("error", EXIT.failed));
    },
  });
} catch (error) {
  // A signal during the start also breaks the steps above (the hive exits): that shutdown is the one.
  if (!shutdown.requested) console.error(`npm start: ${(error as Error).message}`);
  await shutdown.run("error", EXIT.failed);
}
await shutdown.checkpoint();

const baseUrl = `${queen.url}/v1`;
console.log(`
rbee is running.

  OPENAI_BASE_URL=${baseUrl}
  OPENAI_API_KEY=${apiKey}
  model: ${model.name}
  dashboard: ${queen.url}/dashboard/   (sign in with the OPENAI_API_KEY above, the admin key)

  rbee CLI:  export RBEE_QUEEN_URL=${queen.url} RBEE_API_KEY=${apiKey}   (then: npx rbee status)

  curl ${baseUrl}/chat/completions -H "Authorization: Bearer ${apiKey}" \\
    -H "Content-Type: application/json" -d '{"model":"${model.name}","max_tokens":64,"messages":[{"role":"user","content":"Hello"}]}'
${
  model.demo
    ? `
  '${DEMO_MODEL}' is a tiny random-weight demo model generated by rbee: its output is random text.
  Serve a real model with:  npm start -- --model file:/path/to/model.gguf
`
    : ""
}
Ctrl-C stops everything.`);
