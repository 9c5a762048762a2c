// The README's first promise: `npm start` brings up the whole local cloud, prints the base URL
// and key, serves rbee-tiny to the OpenAI client, and Ctrl-C leaves no process behind.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { PROJECT_ROOT } from "../../scripts/local-cloud/queen.js";
import { isAlive, processesMentioning, waitUntil } from "./local-cloud.js";

/** Every process below `pid`, found through `ps` (Linux/macOS). */
function descendants(pid: number): number[] {
  const table = execFileSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" });
  const children = new Map<number, number[]>();
  for (const line of table.trim().split("\n")) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (child === undefined || parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

describe("npm start", () => {
  let stateDir = "";

  afterAll(async () => {
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it("serves rbee-tiny on the printed URL with the printed key, and Ctrl-C stops everything", { timeout: 150_000 }, async () => {
    stateDir = await mkdtemp(join(tmpdir(), "rbee-start-"));
    const port = await findFreeLoopbackPort();
    const start = execa("npm", ["start", "--silent"], {
      cwd: PROJECT_ROOT,
      env: { RBEE_PORT: String(port), RBEE_STATE_DIR: stateDir, RBEE_CACHE_DIR: join(stateDir, "cache"), RBEE_API_KEY: "", RBEE_ADMIN_KEY: "" },
      all: true,
      reject: false,
      // Its own process group, like a shell job, so "Ctrl-C" can reach every process in it.
      detached: true,
    });
    let output = "";
    start.all.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    try {
      await waitUntil(() => output.includes("Ctrl-C stops everything") || start.exitCode !== null, 90_000, "npm start to be ready");
      expect(output).toContain(`OPENAI_BASE_URL=http://127.0.0.1:${port}/v1`);
      expect(output).toContain("its output is random text");
      const apiKey = /OPENAI_API_KEY=(\S+)/.exec(output)?.[1];
      expect(apiKey).toMatch(/^rbee_sk_/);

      const openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey, maxRetries: 0 });
      const completion = await openai.chat.completions.create({
        model: "rbee-tiny",
        messages: [{ role: "user", content: "Hello" }],
        max_tokens: 8,
      });
      expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);

      const started = descendants(start.pid ?? 0);
      expect(started.length).toBeGreaterThanOrEqual(3); // queen (workerd), hive, worker at least
      // Ctrl-C in a terminal sends SIGINT to the whole foreground process group.
      process.kill(-(start.pid ?? 0), "SIGINT");
      await start;
      expect(output).toContain("SIGINT: stopping the hive, its workers and the queen");
      await waitUntil(() => started.every((pid) => !isAlive(pid)), 20_000, "every started process to exit");
    } finally {
      // Whatever happened above, leave nothing running for the next test.
      for (const pid of descendants(start.pid ?? 0)) process.kill(pid, "SIGKILL");
      // Workers run detached from the hive, so one left by a failed run is no longer a descendant.
      for (const pid of await processesMentioning(stateDir)) process.kill(pid, "SIGKILL");
      if (start.exitCode === null) start.kill("SIGKILL");
    }
  });
});
