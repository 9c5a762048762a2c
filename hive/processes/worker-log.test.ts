// A dead worker's last words: the messages at its log's end, or, for an empty log, "no output" and,
// where the log's disk is full, that a full disk is why.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastWords } from "./worker-log.js";

let dir = "";

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-worker-log-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a dead worker's last words", () => {
  it("are the messages at its log's end", async () => {
    const log = path.join(dir, "wrk_a.log");
    await writeFile(log, `${JSON.stringify({ level: "error", msg: "could not load model: bad file" })}\n`);
    expect(await lastWords(log, async () => 0)).toBe("could not load model: bad file");
  });

  it("say a full disk is why an empty log is empty, and only then", async () => {
    const log = path.join(dir, "wrk_b.log");
    await writeFile(log, "");
    expect(await lastWords(log, async () => 4096)).toBe(`no output: the disk holding ${dir} is full (4096 bytes free), so it could not even write its log; free some space`);
    expect(await lastWords(log, async () => 10 * 1024 ** 3)).toBe("no output");
    expect(await lastWords(path.join(dir, "missing.log"), async () => Promise.reject(new Error("statfs failed")))).toBe("no output");
  });

  it("are read from the end of a long log alone, never a piece of a line", async () => {
    const log = path.join(dir, "wrk_c.log");
    const line = (n: number) => JSON.stringify({ level: "info", msg: `request ${n} ${"x".repeat(80)}` });
    const lines = Array.from({ length: 20_000 }, (_, n) => line(n)); // ~2 MB: far more than is read
    await writeFile(log, `${[...lines, JSON.stringify({ level: "error", msg: "out of memory" })].join("\n")}\n`);
    expect(await lastWords(log, async () => 0)).toBe([`request 19997 ${"x".repeat(80)}`, `request 19998 ${"x".repeat(80)}`, `request 19999 ${"x".repeat(80)}`, "out of memory"].join(" | "));
  });
});
