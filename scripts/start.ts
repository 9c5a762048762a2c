// `npm start`: the whole local cloud on this machine — the real queen in workerd, one hive
// connected to it over its WebSocket, and a worker serving a model — until Ctrl-C.
import { existsSync } from "node:fs";
import { basename, isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { writeTinyLlamaGguf } from "../shared/gguf/tiny-llama.js";
import { startHiveProcess } from "./local-cloud/hive-process.js";
import { PROJECT_ROOT, startLocalQueen } from "./local-cloud/queen.js";
import { QueenClient } from "./local-cloud/queen-client.js";

const DEFAULT_PORT = 7833;
const DEMO_MODEL = "rbee-tiny";
const HIVE_NAME = "local";
/** Local queen state (D1, Durable Objects) and the demo model; RBEE_STATE_DIR moves it. */
const STATE_DIR = resolve(process.env.RBEE_STATE_DIR ?? resolve(PROJECT_ROOT, ".rbee"));

const USAGE = `Usage: npm start [-- --model <id>] [--port <n>] [--worker-threads <n>]

  --model <id>            the GGUF to serve: hf:org/repo[:file.gguf | :Q4_K_M], https://…/file.gguf,
                          file:/path/model.gguf or a path; downloads land in the hive's model catalog
                          (~/.cache/rbee/models, env RBEE_CACHE_DIR). Default: the random demo model '${DEMO_MODEL}'
  --port <n>              queen port on 127.0.0.1 (env RBEE_PORT, default ${DEFAULT_PORT})
  --worker-threads <n>    CPU threads for the worker (default: all cores; 1 for the demo model)
Env: RBEE_API_KEY (or RBEE_ADMIN_KEY) sets the API key, which is the queen's admin key: it can
call every route and create narrower keys through /v1/keys (otherwise one is generated);
RBEE_STATE_DIR moves the local state (default .rbee/ in the project); HF_TOKEN and HF_ENDPOINT
work as for the Hugging Face tools.`;

function fail(message: string): never {
  console.error(`npm start: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: { model: { type: "string" }, port: { type: "string" }, "worker-threads": { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const portText = values.port ?? process.env.RBEE_PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port: expected an integer 1–65535, got '${portText}'`);
  const threadsText = values["worker-threads"];
  const workerThreads = threadsText === undefined ? undefined : Number(threadsText);
  if (workerThreads !== undefined && (!Number.isInteger(workerThreads) || workerThreads < 1)) {
    fail(`--worker-threads: expected a positive integer, got '${threadsText}'`);
  }
  return { model: values.model, port, workerThreads };
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
    return { name: modelNameFrom(model.replace(/[?#].*$/, "").split(/[/:]/).at(-1) ?? "model"), source: model, demo: false };
  }
  if (!model.startsWith("file:") && !isAbsolute(model) && !model.startsWith(".")) {
    fail(`--model: expected hf:org/repo[:file.gguf], https://…/file.gguf, file:/path/model.gguf or a path, got '${model}'`);
  }
  const path = resolve(model.startsWith("file:") ? model.slice("file:".length).replace(/^\/\/(?=\/)/, "") : model);
  if (!existsSync(path)) fail(`--model: no file at '${path}'`);
  return { name: modelNameFrom(basename(path)), source: pathToFileURL(path).href, demo: false };
}

/** A model name clients can type, from a file name: `Qwen2.5-0.5B-Q4_K_M.gguf` → `Qwen2.5-0.5B-Q4_K_M`. */
function modelNameFrom(fileName: string): string {
  return fileName.replace(/\.gguf$/i, "").replace(/[^A-Za-z0-9._:@-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 128) || "model";
}

const options = parseOptions();
const model = await resolveModel(options.model);
// The printed key is the queen's bootstrap admin key (RBEE_ADMIN_KEY): it serves inference and
// administration alike, so a local user needs only this one.
const apiKey = process.env.RBEE_API_KEY || process.env.RBEE_ADMIN_KEY || `rbee_sk_${crypto.randomUUID().replaceAll("-", "")}`;

console.log("starting the queen (workerd)…");
const queen = await startLocalQueen({ persistDir: resolve(STATE_DIR, "queen"), adminKey: apiKey, port: options.port }).catch((error: Error) =>
  fail(`the queen did not start on port ${options.port}: ${error.message} (is the port in use? set RBEE_PORT)`),
);
const client = new QueenClient(queen.url, apiKey);
const { token } = await client.createHive(HIVE_NAME);
const hive = startHiveProcess({
  queenUrl: queen.url,
  name: HIVE_NAME,
  token,
  workerThreads: options.workerThreads ?? (model.demo ? 1 : undefined),
  // `npm start` owns its workers: Ctrl-C stops them (a standalone hive leaves them for its restart).
  stopWorkersOnExit: true,
  onLine: (line) => console.log(`[hive] ${line}`),
});

let shuttingDown = false;
async function shutDown(signal: string): Promise<void> {
  if (shuttingDown) process.exit(1); // second Ctrl-C: stop waiting
  shuttingDown = true;
  console.log(`\n${signal}: stopping the hive, its workers and the queen…`);
  await hive.stop(); // the hive stops the workers it started before it exits
  await queen.dispose();
  process.exit(0);
}
// wrangler (and the exit hooks it loads) install SIGINT/SIGTERM handlers that exit at once; this
// script owns shutdown instead, so the hive can stop its workers before the queen goes.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => void shutDown(signal));
}

try {
  await hive.welcomed;
  if (!model.demo) {
    // Downloads can take longer than one HTTP request may wait: fetch first, following the job.
    console.log(`getting '${model.source}' into the hive's model catalog…`);
    const end = await client.runJob({ operation: "model_download", hive: HIVE_NAME, model: model.source });
    if (end.type !== "done") throw new Error(`could not get the model: ${end.code ?? end.type}: ${end.message ?? ""}`);
  }
  console.log(`starting a worker for '${model.name}'…`);
  const worker = await client.spawnWorker({ hive: HIVE_NAME, model: model.name, source: model.source });
  await client.waitForWorkerReady(worker.id, 120_000);
} catch (error) {
  console.error(`npm start: ${(error as Error).message}`);
  await shutDown("error");
}

const baseUrl = `${queen.url}/v1`;
console.log(`
rbee is running.

  OPENAI_BASE_URL=${baseUrl}
  OPENAI_API_KEY=${apiKey}
  model: ${model.name}

  curl ${baseUrl}/chat/completions -H "Authorization: Bearer ${apiKey}" \\
    -H "Content-Type: application/json" -d '{"model":"${model.name}","messages":[{"role":"user","content":"Hello"}]}'
${
  model.demo
    ? `
  '${DEMO_MODEL}' is a tiny random-weight demo model generated by rbee: its output is random text.
  Serve a real model with:  npm start -- --model file:/path/to/model.gguf
`
    : ""
}
Ctrl-C stops everything.`);
