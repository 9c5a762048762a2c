// `npm start` when its hive's token is revoked: the queen refuses that token for good, so npm
// start does not start the hive again with it (as it would a hive that crashed): it stops, saying
// why and what the next start does, and leaves nothing running. The next npm start on the state
// folder registers the hive again with a new token and serves.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { runNpmStart, type NpmStart } from "../support/npm-start-process.js";
import { isAlive, waitUntil } from "./local-cloud.js";

const API_KEY = "rbee_sk_npm_start_revoked_test";

describe("npm start, its hive's token revoked", () => {
  let stateDir = "";
  let port = 0;
  const starts: NpmStart[] = [];

  const start = async (): Promise<NpmStart> => {
    const started = runNpmStart(stateDir, port, API_KEY);
    starts.push(started);
    await started.ready();
    return started;
  };

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "rbee-start-revoked-"));
    port = await findFreeLoopbackPort();
  });

  afterAll(async () => {
    for (const started of starts) await started.kill();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("stops, naming the revocation and what the next start does, without starting the hive again", { timeout: 240_000 }, async () => {
    const first = await start();
    const running = await first.started();
    const revoke = await fetch(`http://127.0.0.1:${port}/v1/hives/local/token`, { method: "DELETE", headers: { authorization: `Bearer ${API_KEY}` } });
    expect(revoke.status).toBe(200);

    expect((await first.process).exitCode).toBe(1);
    expect(first.output).toContain("npm start: the queen refused the hive (hive token revoked)");
    expect(first.output).toContain("npm start registers its hive afresh on every start");
    // Not the keeper's line for a hive that crashed: "the hive (pid …) exited …; starting it again in 1 s".
    expect(first.output).not.toMatch(/the hive \(pid \d+\) exited/);
    await waitUntil(() => running.every((pid) => !isAlive(pid)), 20_000, "every process it started to exit");

    // The next start issues the hive a new token, and the model answers.
    await start();
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: API_KEY, maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: "rbee-tiny", messages: [{ role: "user", content: "Hello" }], max_tokens: 4 });
    expect(completion.choices[0]?.message.content).toBeDefined();
  });
});
