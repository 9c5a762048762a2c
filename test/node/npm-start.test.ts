// The README's first promise: `npm start` brings up the whole local cloud, prints the base URL
// and key, serves the demo model (under its --model-name) to the OpenAI client, refuses a second
// start beside it at once, starts its hive or its queen again when either is killed, and Ctrl-C
// leaves no process behind. (test/drills/signals.slow.test.ts: SIGTERM, SIGINT and
// SIGKILL to npm alone.)
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { PROJECT_ROOT } from "../../scripts/local-cloud/queen.js";
import { descendants, runNpmStart, type NpmStart } from "../support/npm-start-process.js";
import { isAlive, processesMentioning, waitUntil } from "./local-cloud.js";

/** What `npm start` exits with when another instance holds the state folder or the port. */
const EXIT_REFUSED = 3;
/** What the demo model is served as here: `npm start -- --model-name` chooses the name clients ask for. */
const MODEL_NAME = "tiny-chat";

describe("npm start", () => {
  const stateDirs: string[] = [];
  let stateDir = "";
  let port = 0;
  let start: NpmStart | undefined;

  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "rbee-start-"));
    stateDirs.push(dir);
    return dir;
  };
  const running = (): NpmStart => {
    if (start === undefined) throw new Error("npm start did not start");
    return start;
  };
  /** One chat completion from the demo model, served as MODEL_NAME, through the printed URL with the printed key. */
  const chat = async (): Promise<string> => {
    const apiKey = /OPENAI_API_KEY=(\S+)/.exec(running().output)?.[1];
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey, maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: MODEL_NAME, messages: [{ role: "user", content: "Hello" }], max_tokens: 8 });
    return completion.choices[0]?.message.content ?? "";
  };
  /** A second `npm start`, run to its end. */
  const secondStart = (env: { RBEE_STATE_DIR: string; RBEE_PORT: string }) =>
    execa("npm", ["start", "--silent"], { cwd: PROJECT_ROOT, env: { ...env, RBEE_CACHE_DIR: join(env.RBEE_STATE_DIR, "cache") }, all: true, reject: false, timeout: 60_000 });

  beforeAll(async () => {
    stateDir = await tempDir();
    port = await findFreeLoopbackPort();
    start = runNpmStart(stateDir, port, "", ["--model-name", MODEL_NAME]);
    await start.ready();
  }, 120_000);

  afterAll(async () => {
    // Whatever happened, leave nothing running for the next test.
    await start?.kill();
    for (const dir of stateDirs) await rm(dir, { recursive: true, force: true });
  });

  it("prints the dashboard's URL, where the queen serves the page", async () => {
    const url = /dashboard: (\S+)/.exec(running().output)?.[1];
    expect(url).toBe(`http://127.0.0.1:${port}/dashboard/`);
    const page = await fetch(url ?? "");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>rbee dashboard</title>");
  });

  it("serves the demo model under the --model-name on the printed URL with the printed key", async () => {
    const { output } = running();
    expect(output).toContain(`OPENAI_BASE_URL=http://127.0.0.1:${port}/v1`);
    expect(output).toContain("its output is random text");
    expect(/OPENAI_API_KEY=(\S+)/.exec(output)?.[1]).toMatch(/^rbee_sk_/);
    expect(await chat()).not.toBe("");
    const apiKey = /OPENAI_API_KEY=(\S+)/.exec(output)?.[1] ?? "";
    const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { data: { id: string; state: string }[] };
    // The hive's catalog still names the file rbee-tiny (loadable); the running worker is MODEL_NAME.
    expect(models.data.filter((model) => model.state === "loaded").map((model) => model.id)).toEqual([MODEL_NAME]);
  });

  it("prints a curl example that answers with at most 64 tokens, as the README's does", async () => {
    // The two lines as printed, the second one a continuation of the first.
    const curl = /^ *(curl .*\\\n.*)$/m.exec(running().output)?.[1];
    expect(curl).toContain('"max_tokens":64');
    const answered = await execa("sh", ["-c", curl ?? "false"], { timeout: 30_000 });
    const completion = JSON.parse(answered.stdout) as { usage: { completion_tokens: number } };
    expect(completion.usage.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage.completion_tokens).toBeLessThanOrEqual(64);
  });

  it("prints the queen's log line of each inference request, which the request's id finds", async () => {
    const apiKey = /OPENAI_API_KEY=(\S+)/.exec(running().output)?.[1] ?? "";
    const requestId = `npm-start-${Date.now()}`;
    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", "x-request-id": requestId },
      body: JSON.stringify({ model: MODEL_NAME, max_tokens: 8, messages: [{ role: "user", content: "Hello" }] }),
    });
    expect(response.status).toBe(200);
    await response.text();
    const queenLine = () => running().output.split("\n").find((line) => line.startsWith("[queen] ") && line.includes(`"request_id":"${requestId}"`));
    await waitUntil(() => queenLine() !== undefined, 15_000, "the queen's line for the request");
    expect(JSON.parse(queenLine()?.slice("[queen] ".length) ?? "")).toMatchObject({ event: "inference", request_id: requestId, model: MODEL_NAME, status: 200, hive: "local" });
  });

  it("refuses a bad RBEE_PORT naming RBEE_PORT, and a bad --port naming --port, with exit status 2", async () => {
    const fromEnv = await execa("npm", ["start", "--silent"], { cwd: PROJECT_ROOT, env: { RBEE_PORT: "0" }, all: true, reject: false, timeout: 60_000 });
    expect(fromEnv.exitCode).toBe(2);
    expect(fromEnv.all).toContain("npm start: RBEE_PORT: expected an integer 1–65535, got '0'");
    const fromFlag = await execa("npm", ["start", "--silent", "--", "--port", "0"], { cwd: PROJECT_ROOT, env: { RBEE_PORT: "7833" }, all: true, reject: false, timeout: 60_000 });
    expect(fromFlag.exitCode).toBe(2);
    expect(fromFlag.all).toContain("npm start: --port: expected an integer 1–65535, got '0'");
  });

  it("refuses an RBEE_API_KEY shorter than the queen accepts, naming it and the minimum, with exit status 2, before starting anything", async () => {
    const refused = await execa("npm", ["start", "--silent"], { cwd: PROJECT_ROOT, env: { RBEE_STATE_DIR: await tempDir(), RBEE_PORT: String(await findFreeLoopbackPort()), RBEE_API_KEY: "abc" }, all: true, reject: false, timeout: 60_000 });
    expect(refused.exitCode).toBe(2);
    expect(refused.all).toContain("npm start: RBEE_API_KEY: expected a key of at least 16 characters");
    expect(refused.all).not.toContain("starting the queen");
  });

  it("refuses an RBEE_LOG_FORMAT that names neither format, with exit status 2, before starting anything", async () => {
    const refused = await execa("npm", ["start", "--silent"], { cwd: PROJECT_ROOT, env: { RBEE_STATE_DIR: await tempDir(), RBEE_PORT: String(await findFreeLoopbackPort()), RBEE_LOG_FORMAT: "jsn" }, all: true, reject: false, timeout: 60_000 });
    expect(refused.exitCode).toBe(2);
    expect(refused.all).toContain("npm start: RBEE_LOG_FORMAT: expected json or text, got 'jsn'");
    expect(refused.all).not.toContain("starting the queen");
  });

  it("refuses a --model-name clients could not send, with exit status 2, before starting anything", async () => {
    const refused = await execa("npm", ["start", "--silent", "--", "--model-name", "../etc"], { cwd: PROJECT_ROOT, all: true, reject: false, timeout: 60_000 });
    expect(refused.exitCode).toBe(2);
    expect(refused.all).toContain("--model-name: '../etc' must be letters, digits and . _ : @ - only");
  });

  it("refuses a second npm start on the same state folder at once, naming the running one", async () => {
    const holder = JSON.parse(await readFile(join(stateDir, "instance.json"), "utf8")) as { pid: number; url: string };
    expect(descendants(running().pid)).toContain(holder.pid); // scripts/start.ts, below npm
    expect(holder.url).toBe(`http://127.0.0.1:${port}`);

    const second = await secondStart({ RBEE_STATE_DIR: stateDir, RBEE_PORT: String(port + 1) });
    expect(second.exitCode).toBe(EXIT_REFUSED);
    expect(second.all).toContain(`another npm start (pid ${holder.pid}, serving http://127.0.0.1:${port}`);
    expect(second.all).toContain(`kill ${holder.pid}`);
    expect(second.all).toContain("RBEE_STATE_DIR=<another folder> RBEE_PORT=<another port> npm start");
    expect(second.all).not.toContain("starting the queen");
  });

  it("refuses a second npm start on the same port, naming the process that holds it", async () => {
    const second = await secondStart({ RBEE_STATE_DIR: await tempDir(), RBEE_PORT: String(port) });
    expect(second.exitCode).toBe(EXIT_REFUSED);
    expect(second.all).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use by pid \\d+ \\(\\S*workerd serve`));
    expect(second.all).toContain("scripts/start.ts");
    expect(second.all).toContain("RBEE_PORT=<port> npm start");
    expect(second.all).not.toContain("starting the queen");
  });

  it("starts its hive again when the hive is killed, and the model answers through the new one", { timeout: 90_000 }, async () => {
    const hivesOfThisStart = async () => (await processesMentioning(`http://127.0.0.1:${port}`)).filter((pid) => descendants(running().pid).includes(pid));
    // The worker is the one process whose command line names the hive's cache (its model file).
    const workers = () => processesMentioning(join(stateDir, "cache"));
    const workersBefore = await workers();
    expect(workersBefore).toHaveLength(1);
    const [killed, ...others] = await hivesOfThisStart();
    expect(killed).toBeDefined();
    expect(others).toEqual([]);
    process.kill(killed!, "SIGKILL");
    await waitUntil(() => running().output.includes(`the hive (pid ${killed}) exited killed by SIGKILL; starting it again`), 15_000, "npm start to restart its hive");
    await waitUntil(async () => (await hivesOfThisStart()).some((pid) => pid !== killed), 15_000, "a new hive process");
    // The worker outlived its hive and re-attaches to the new one: the model answers, with no second worker.
    await waitUntil(async () => (await chat().catch(() => "")) !== "", 30_000, "the model to answer through the new hive");
    expect(await workers()).toEqual(workersBefore);
    expect(running().output).not.toContain("npm start: the hive exited");
  });

  it("starts its queen again when workerd is killed, on the same port and state, and the model answers through it", { timeout: 90_000 }, async () => {
    const workerdOfThisStart = async () => (await processesMentioning("/bin/workerd")).filter((pid) => descendants(running().pid).includes(pid));
    const workers = () => processesMentioning(join(stateDir, "cache"));
    const workersBefore = await workers();
    const [killed, ...others] = await workerdOfThisStart();
    expect(killed).toBeDefined();
    expect(others).toEqual([]);
    process.kill(killed!, "SIGKILL");
    await waitUntil(() => running().output.includes(`the queen's workerd (pid ${killed}) exited; starting the queen again`), 15_000, "npm start to restart its queen");
    await waitUntil(() => running().output.includes(`the queen is back on http://127.0.0.1:${port}`), 30_000, "the queen to be back");
    // The same key (the state folder's), the same hive reconnected, the same worker re-attached.
    await waitUntil(async () => (await chat().catch(() => "")) !== "", 30_000, "the model to answer through the new queen");
    expect(await workers()).toEqual(workersBefore);
    expect((await workerdOfThisStart()).filter((pid) => pid !== killed)).toHaveLength(1);
    expect(running().output).not.toContain("npm start: the queen");
  });

  it("keeps serving after refusing them, and Ctrl-C stops everything", { timeout: 60_000 }, async () => {
    expect(running().output).not.toContain("stopping the hive");
    // Its worker was left alone. On a machine loaded enough for its 1 s heartbeats to lapse (seen
    // once in CI), the registry drops it until the next one and refuses 503: ask again meanwhile.
    let refused: unknown;
    const answered = async () => {
      try {
        return (await chat()) !== "";
      } catch (error) {
        refused = error;
        return false;
      }
    };
    await waitUntil(answered, 15_000, "the demo model to answer").catch((error: unknown) => {
      throw new Error(`${String(error)}; last refusal: ${String(refused)}`);
    });
    const started = await running().started();
    expect(started.length).toBeGreaterThanOrEqual(4); // npm, start.ts, the queen (workerd), the hive, the worker
    // Ctrl-C in a terminal sends SIGINT to the whole foreground process group.
    process.kill(-running().pid, "SIGINT");
    // After the queen's restart above too: the hive stops its workers itself, and npm start exits 0.
    expect((await running().process).exitCode).toBe(0);
    expect(running().output).toContain("SIGINT: stopping the hive, its workers and the queen");
    expect(running().output).toMatch(/rbee-hive: SIG(INT|TERM), stopping \(stopping its workers too\)/);
    await waitUntil(() => started.every((pid) => !isAlive(pid)), 20_000, "every started process to exit");
  });
});
