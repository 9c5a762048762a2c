// The `rbee` operator CLI for real: the bin run as a child process (no terminal, so plain output)
// against one local cloud — a queen in workerd and a hive process, downloading from a local
// stand-in for the Hugging Face hub — with its config in a temp XDG_CONFIG_HOME.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type Options } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTinyLlamaGguf } from "../../shared/gguf/tiny-llama.js";
import { FilesystemCatalog } from "../../hive/catalog/filesystem-catalog.js";
import { ModelArtifact } from "../../hive/catalog/model/model-artifact.js";
import { PROJECT_ROOT } from "../../scripts/local-cloud/queen.js";
import { VERSION_LINE } from "../../shared/rbee-version.js";
import { FakeHub } from "../support/fake-hub.js";
import { call } from "./job-stream.js";
import { type LocalCloud, startLocalCloud, TINY_MODEL, waitUntil } from "./local-cloud.js";

const HIVE = "cli-hive";
const REPO = "rbee-test/cli-GGUF";
const model = createTinyLlamaGguf();

describe("the rbee CLI", () => {
  let hub: FakeHub;
  let cloud: LocalCloud;
  let configHome = "";

  /** `rbee …` with no RBEE_* variables of the caller's own, unless `env` gives them. */
  const rbee = (args: string[], env: Record<string, string> = {}, options: Options = {}) =>
    execa("node", ["bin/rbee.js", ...args], {
      cwd: PROJECT_ROOT,
      env: { XDG_CONFIG_HOME: configHome, RBEE_QUEEN_URL: "", RBEE_API_KEY: "", ...env },
      reject: false,
      timeout: 60_000,
      ...options,
    });
  /** `rbee …` pointed at the cloud by the environment. */
  const admin = (args: string[]) => rbee(args, { RBEE_QUEEN_URL: cloud.queen.url, RBEE_API_KEY: cloud.apiKey });
  const json = (result: { stdout: unknown }): unknown => JSON.parse(String(result.stdout));

  beforeAll(async () => {
    configHome = await mkdtemp(join(tmpdir(), "rbee-cli-config-"));
    // Slow enough that a watcher sees the download run, not only its end.
    hub = await FakeHub.start({ repos: [{ id: REPO, files: [{ path: "cli.Q4_K_M.gguf", bytes: model, lfs: true, bytesPerSecond: 256 * 1024 }] }] });
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: HIVE, hiveEnv: { HF_ENDPOINT: hub.url } });
  });

  afterAll(async () => {
    await cloud?.stop();
    await hub?.close();
    await rm(configHome, { recursive: true, force: true });
  });

  it("logs in with a URL ending in /v1, writes the config for its owner only, and status works with it", async () => {
    const login = await rbee(["login", `${cloud.queen.url}/v1/`, "--key", cloud.apiKey]);
    expect(login.exitCode, String(login.stderr)).toBe(0);
    const path = join(configHome, "rbee", "config.json");
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ queen_url: cloud.queen.url, api_key: cloud.apiKey });
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const status = await rbee(["status", "--json"]);
    expect(status.exitCode, String(status.stderr)).toBe(0);
    expect(json(status)).toMatchObject({ queen: cloud.queen.url, health: "ok", hives: { online: 1 } });
  });

  it("refuses a wrong key with exit 3 and says to log in, and saves nothing", async () => {
    const wrong = await rbee(["hives", "ls"], { RBEE_QUEEN_URL: cloud.queen.url, RBEE_API_KEY: "rbee_sk_not_a_key_of_this_queen" });
    expect(wrong.exitCode).toBe(3);
    expect(wrong.stderr).toContain(`rbee login ${cloud.queen.url}`);

    const elsewhere = await mkdtemp(join(tmpdir(), "rbee-cli-config-"));
    const login = await rbee(["login", cloud.queen.url, "--key", "rbee_sk_not_a_key_of_this_queen"], { XDG_CONFIG_HOME: elsewhere });
    expect(login.exitCode).toBe(3);
    await expect(stat(join(elsewhere, "rbee", "config.json"))).rejects.toThrow();
    await rm(elsewhere, { recursive: true, force: true });
  });

  it("exits 3 naming what to do when no queen answers, and 2 for bad usage", async () => {
    const unreachable = await rbee(["status"], { RBEE_QUEEN_URL: "http://127.0.0.1:9", RBEE_API_KEY: "rbee_sk_x" });
    expect(unreachable.exitCode).toBe(3);
    expect(unreachable.stderr).toContain("cannot reach the queen");
    for (const args of [["hives", "frobnicate"], ["workers", "start", "--hive", HIVE], ["chat"], ["workers", "start", "--hive", HIVE, "--model", "no-source"]]) {
      const result = await admin(args);
      expect(result.exitCode, args.join(" ")).toBe(2);
    }
    expect((await rbee(["--help"])).stdout).toContain("Exit status");
    expect((await rbee(["models", "pull", "--help"])).stdout).toContain("--hive <name>");
  });

  it("adds a hive with a token, lists it, issues a new token and revokes it", async () => {
    const added = await admin(["hives", "add", "gaming-pc"]);
    expect(added.exitCode, String(added.stderr)).toBe(0);
    const firstToken = /rbee_ht_\S+/.exec(String(added.stdout))?.[0];
    expect(added.stdout).toContain("rbee-hive connect");
    expect((await admin(["hives", "add", "gaming-pc"])).stderr).toContain("rbee hives token gaming-pc");

    const listed = json(await admin(["hives", "ls", "--json"])) as Array<{ name: string; online: boolean }>;
    expect(listed.map(({ name, online }) => ({ name, online }))).toEqual(expect.arrayContaining([{ name: HIVE, online: true }, { name: "gaming-pc", online: false }]));

    const rotated = json(await admin(["hives", "token", "gaming-pc", "--json"])) as { token: string };
    expect(rotated.token).toMatch(/^rbee_ht_/);
    expect(rotated.token).not.toBe(firstToken);
    const revoke = await admin(["hives", "revoke", "gaming-pc"]);
    expect(revoke.exitCode).toBe(0);
    expect(revoke.stdout).toBe("revoked the token of hive 'gaming-pc'; rbee hives token gaming-pc issues a new one");
    const revoked = json(await admin(["hives", "get", "gaming-pc", "--json"])) as { token_revoked_at: string | null };
    expect(revoked.token_revoked_at).not.toBeNull();
    const again = await admin(["hives", "revoke", "gaming-pc"]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe(`the token of hive 'gaming-pc' was already revoked at ${revoked.token_revoked_at}; rbee hives token gaming-pc issues a new one`);
    expect((await admin(["hives", "get", "no-such-hive"])).exitCode).toBe(1);
  });

  it("names a model with an alias, shows it, and deletes it", async () => {
    const set = await admin(["models", "alias", "coder", "hf:Qwen/Qwen2.5-Coder-7B-Instruct-GGUF"]);
    expect(set.exitCode, String(set.stderr)).toBe(0);
    expect(set.stdout).toContain("clients can ask for model 'coder'");
    // A source names the model a hive serves it as, by the one rule (shared/models/model-name.ts).
    expect(json(await admin(["models", "alias", "coder", "--json"]))).toMatchObject({ alias: "coder", model: "Qwen2.5-Coder-7B-Instruct-GGUF" });
    const chained = await admin(["models", "alias", "helper", "coder"]);
    expect(chained.exitCode, "the queen's 400: a value it refuses").toBe(2);
    expect(chained.stderr).toContain("is itself an alias");
    expect((await admin(["models", "alias", "coder", "--rm"])).exitCode).toBe(0);
    const gone = await admin(["models", "alias", "coder"]);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toContain("coder");
  });

  it("says its release and hive protocol with --version, as rbee-hive does", async () => {
    const version = await rbee(["--version"]);
    expect({ exit: version.exitCode, stdout: version.stdout }).toEqual({ exit: 0, stdout: VERSION_LINE });
  });

  it("creates a key that works, lists it without its secret, and revokes it", async () => {
    const created = json(await admin(["keys", "create", "--name", "ci", "--scopes", "inference", "--json"])) as { id: string; key: string };
    const models = (key: string) => fetch(`${cloud.queen.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect((await models(created.key)).status).toBe(200);
    const listing = await admin(["keys", "ls", "--json"]);
    expect(json(listing)).toEqual(expect.arrayContaining([expect.objectContaining({ id: created.id, name: "ci", revoked_at: null })]));
    expect(listing.stdout).not.toContain(created.key);
    const revoked = await admin(["keys", "revoke", created.id]);
    expect(revoked.exitCode).toBe(0);
    expect(revoked.stdout).toBe(`revoked key ${created.id} (ci)`);
    expect((await models(created.key)).status).toBe(401);
  });

  it("refuses a repeated flag, an empty or the admin key's id, and a value the queen finds invalid, each with exit 2 and nothing done", async () => {
    const twice = await admin(["keys", "create", "--name", "twice-flag", "--scopes", "inference", "--scopes", "admin"]);
    expect({ exit: twice.exitCode, stderr: twice.stderr }).toEqual({ exit: 2, stderr: expect.stringContaining("--scopes was given twice ('admin' after an earlier value): give it once") });
    expect((await admin(["keys", "create", "--name", "twice-flag", "--rpm", "5", "--rpm", "7"])).exitCode).toBe(2);
    const listed = json(await admin(["keys", "ls", "--json"])) as Array<{ name: string }>;
    expect(listed.filter((key) => key.name === "twice-flag"), "no key was made").toEqual([]);

    const empty = await admin(["keys", "revoke", ""]);
    expect({ exit: empty.exitCode, stderr: empty.stderr }).toEqual({ exit: 2, stderr: expect.stringContaining("give the id of the key to revoke") });
    const bootstrap = await admin(["keys", "revoke", "admin"]);
    expect({ exit: bootstrap.exitCode, stderr: bootstrap.stderr }).toEqual({ exit: 2, stderr: expect.stringContaining("is replaced, not revoked (wrangler secret put RBEE_ADMIN_KEY") });
    const byName = await admin(["keys", "revoke", "leaver"]);
    expect({ exit: byName.exitCode, stderr: byName.stderr }).toEqual({ exit: 2, stderr: expect.stringContaining("revoke takes the id, not the name") });

    // The queen's own 400: a name longer than it keeps.
    const long = await admin(["keys", "create", "--name", "n".repeat(200)]);
    expect({ exit: long.exitCode, stderr: long.stderr }).toEqual({ exit: 2, stderr: expect.stringContaining("name") });
  });

  it("says a key revoked before was already revoked, and when, with exit 0", async () => {
    const created = json(await admin(["keys", "create", "--name", "twice", "--json"])) as { id: string };
    const first = json(await admin(["keys", "revoke", created.id, "--json"])) as { revoked_at: string; already_revoked: boolean };
    expect(first.already_revoked).toBe(false);
    const again = await admin(["keys", "revoke", created.id]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toBe(`key ${created.id} (twice) was already revoked at ${first.revoked_at}`);
    expect(json(await admin(["keys", "revoke", created.id, "--json"]))).toMatchObject({ id: created.id, revoked_at: first.revoked_at, already_revoked: true });
  });

  it("creates a key with the limits --rpm, --tpm and --daily-tokens give, which the queen keeps and enforces", async () => {
    const help = await admin(["keys", "create", "--help"]);
    for (const flag of ["--rpm <requests>", "--tpm <tokens>", "--daily-tokens <tokens>"]) expect(help.stdout).toContain(flag);
    const created = await admin(["keys", "create", "--name", "limited", "--rpm", "2", "--tpm", "20000", "--daily-tokens", "1000000"]);
    expect(created.exitCode, String(created.stderr)).toBe(0);
    expect(created.stdout).toContain("limits: 2 requests per minute, 20000 tokens per minute, 1000000 tokens per UTC day");
    const key = /^rbee_sk_\S+$/m.exec(String(created.stdout))?.[0] ?? "";
    const listed = json(await admin(["keys", "ls", "--json"])) as Array<{ name: string; limits: unknown }>;
    expect(listed.find((row) => row.name === "limited")?.limits).toEqual({ rpm: 2, tpm: 20000, daily_tokens: 1000000 });
    const table = String((await admin(["keys", "ls"])).stdout).split("\n");
    expect(table[0]).toMatch(/\bSCOPES\s+LIMITS\s+CREATED\b/);
    expect(table.find((line) => line.includes(" limited "))).toContain("2/min, 20000 tok/min, 1000000 tok/day");
    const models = () => fetch(`${cloud.queen.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect((await models()).status).toBe(200);
    expect((await models()).status).toBe(200);
    const refused = await models();
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain("requests_per_minute");
    // Without the flags, a key has no limits of its own.
    const plain = json(await admin(["keys", "create", "--name", "unlimited", "--json"])) as { limits: unknown };
    expect(plain.limits).toEqual({ rpm: null, tpm: null, daily_tokens: null });
  });

  it("shows one key, and changes its name and limits without a new secret ('none' takes a limit away)", async () => {
    const created = json(await admin(["keys", "create", "--name", "intern", "--daily-tokens", "1000", "--json"])) as { id: string; key: string };
    const updated = await admin(["keys", "update", created.id, "--name", "intern-2027", "--daily-tokens", "none", "--rpm", "30"]);
    expect(updated.exitCode, String(updated.stderr)).toBe(0);
    expect(updated.stdout).toBe(`updated key ${created.id} (intern-2027; inference; limits: 30 requests per minute; every model; never expires)`);
    const narrowed = await admin(["keys", "update", created.id, "--models", `${TINY_MODEL},coder`]);
    expect(narrowed.stdout).toBe(`updated key ${created.id} (intern-2027; inference; limits: 30 requests per minute; models ${TINY_MODEL},coder; never expires)`);
    expect((await admin(["keys", "update", created.id, "--models", "../etc"])).exitCode).toBe(2);
    const widened = json(await admin(["keys", "update", created.id, "--models", "all", "--json"])) as { models: unknown };
    expect(widened.models).toBeNull();
    const only = await admin(["keys", "create", "--name", "one-model", "--models", TINY_MODEL]);
    expect(only.stdout).toContain(`(inference; models ${TINY_MODEL} only), shown once:`);
    const shown = await admin(["keys", "get", created.id]);
    expect(shown.stdout).toMatch(/^name\s+intern-2027$/m);
    expect(shown.stdout).toMatch(/^limits\s+\{"rpm":30,"tpm":null,"daily_tokens":null\}$/m);
    expect(shown.stdout).not.toContain(created.key);
    expect(json(await admin(["keys", "get", created.id, "--json"]))).toMatchObject({ id: created.id, name: "intern-2027" });
    const nothing = await admin(["keys", "update", created.id]);
    expect({ exit: nothing.exitCode, stderr: nothing.stderr }).toEqual({ exit: 2, stderr: expect.stringContaining("give what to change") });
    expect((await admin(["keys", "update", created.id, "--rpm", "lots"])).exitCode).toBe(2);
  });

  it("rotates a key's secret: the new one printed once works, the old one is refused, the id stays", async () => {
    const created = json(await admin(["keys", "create", "--name", "leaked", "--json"])) as { id: string; key: string };
    const rotated = await admin(["keys", "rotate", created.id]);
    expect(rotated.exitCode, String(rotated.stderr)).toBe(0);
    const [said, secret] = String(rotated.stdout).split("\n");
    expect(said).toBe(`rotated key ${created.id} (leaked); its old secret no longer works. The new one, shown once:`);
    expect(secret).toMatch(/^rbee_sk_\S+$/);
    const models = (key: string) => fetch(`${cloud.queen.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect((await models(secret ?? "")).status).toBe(200);
    expect((await models(created.key)).status).toBe(401);
    const again = json(await admin(["keys", "rotate", created.id, "--json"])) as { id: string; key: string };
    expect(again.id).toBe(created.id);
    expect((await models(secret ?? "")).status, "the second rotation's old secret").toBe(401);
    const bootstrap = await admin(["keys", "rotate", "admin"]);
    expect({ exit: bootstrap.exitCode, stderr: bootstrap.stderr }).toEqual({ exit: 2, stderr: expect.stringContaining("replaced by setting the secret anew") });
    await admin(["keys", "revoke", created.id]);
    const revoked = await admin(["keys", "rotate", created.id]);
    expect({ exit: revoked.exitCode, stderr: revoked.stderr }).toEqual({ exit: 1, stderr: expect.stringContaining("a revoked key is not given a new secret") });
  });

  it("lists every key, past the queen's first page of 100", async () => {
    const oldest = json(await admin(["keys", "create", "--name", "paging-oldest", "--json"])) as { id: string };
    for (let batch = 0; batch < 5; batch++) {
      await Promise.all(Array.from({ length: 21 }, (_, index) => call(cloud, "POST", "/v1/keys", { name: `paging-${batch}-${index}`, scopes: ["inference"] })));
    }
    const listed = json(await admin(["keys", "ls", "--json"])) as Array<{ id: string }>;
    expect(listed.length).toBeGreaterThan(106);
    expect(new Set(listed.map((key) => key.id)).size).toBe(listed.length);
    // Newest first: the key made before the other 105 is on the second page.
    expect(listed.map((key) => key.id)).toContain(oldest.id);
    const table = await admin(["keys", "ls"]);
    expect(String(table.stdout).split("\n").filter((line) => line.startsWith("key_"))).toHaveLength(listed.length);
  });

  it("names the scope a command needs when the key lacks it", async () => {
    const adminOnly = json(await admin(["keys", "create", "--name", "ops", "--scopes", "admin", "--json"])) as { key: string };
    const chat = await rbee(["chat", "-m", TINY_MODEL, "Hello"], { RBEE_QUEEN_URL: cloud.queen.url, RBEE_API_KEY: adminOnly.key });
    expect(chat.exitCode).toBe(3);
    expect(chat.stderr).toContain("This command needs a key with the inference scope");
    expect(chat.stderr).not.toContain("admin scope");
  });

  it("says an unknown key has no usage in the days asked, with exit 0", async () => {
    const usage = await admin(["usage", "--key", "key_nope", "--from", "2026-12-01"]);
    expect(usage.exitCode, String(usage.stderr)).toBe(0);
    expect(usage.stdout).toContain("no usage recorded for a key with id 'key_nope' since 2026-12-01");
  });

  it("starts a worker, lists it, streams a chat answer from it, and leaves at Ctrl-C with exit status 130", async () => {
    const started = await admin(["workers", "start", "--hive", HIVE, "--model", TINY_MODEL, "--source", cloud.modelSource]);
    expect(started.exitCode, String(started.stderr)).toBe(0);
    await waitUntil(async () => (await cloud.client.listWorkers()).some((worker) => worker.state === "ready"), 60_000, "the worker to be ready");
    const workers = json(await admin(["workers", "ls", "--json"])) as Array<{ id: string; model: string; hive: string }>;
    expect(workers).toEqual([expect.objectContaining({ model: TINY_MODEL, hive: HIVE })]);
    const id = workers[0]?.id ?? "";
    const one = await admin(["workers", "get", id, "--json"]);
    expect(one.exitCode, String(one.stderr)).toBe(0);
    expect(json(one)).toMatchObject({ id, model: TINY_MODEL, hive: HIVE });
    expect((await admin(["workers", "get", id])).stdout).toMatch(new RegExp(`^model +${TINY_MODEL}$`, "m"));
    expect(json(await admin(["status", "--json"]))).toMatchObject({ workers: { total: 1, serving: 1 } });
    expect((await admin(["status"])).stdout).toMatch(/^workers +1 serving of 1 \((0|1) busy\)$/m);
    // The catalog remembers the name the worker was started under.
    const catalog = json(await admin(["models", "ls", "--hive", HIVE, "--json"])) as Array<{ id: string; served_as: string[] }>;
    expect(catalog).toEqual([expect.objectContaining({ id: decodeURI(cloud.modelSource.replace("file://", "file:")), served_as: [TINY_MODEL] })]);
    expect((await admin(["models", "ls", "--hive", HIVE])).stdout).toMatch(new RegExp(String.raw`^SOURCE +STATUS +SIZE +SERVED AS\n\S+ +available +\S+ KiB +${TINY_MODEL}$`, "m"));

    // Without -m: the one model loaded.
    const chat = await admin(["chat", "--max-tokens", "8", "Hello"]);
    expect(chat.exitCode, String(chat.stderr)).toBe(0);
    expect(String(chat.stdout).trim().length).toBeGreaterThan(0);

    // A long answer, left at Ctrl-C once some of it streamed: the CLI aborts its request and exits
    // 130. That the queen then stops the generation on the worker is end-to-end.test.ts's to show
    // (under load the local queen now and then does not hear a hang-up).
    const long = rbee(["chat", "-m", TINY_MODEL, "--max-tokens", "4000", "Tell", "me", "everything"], { RBEE_QUEEN_URL: cloud.queen.url, RBEE_API_KEY: cloud.apiKey });
    let streamed = 0;
    await new Promise<void>((resolve) =>
      long.stdout?.on("data", (chunk: Buffer) => {
        streamed += chunk.length;
        if (streamed > 200) resolve();
      }),
    );
    long.kill("SIGINT");
    expect((await long).exitCode).toBe(130);
  });

  it("pulls a model showing progress lines, and jobs watch follows a download the same way", async () => {
    const pulled = await admin(["models", "pull", `hf:${REPO}`, "--hive", HIVE]);
    expect(pulled.exitCode, String(pulled.stderr)).toBe(0);
    expect(pulled.stdout).toMatch(/model_download \d+% [\d.]+\/[\d.]+ KiB/);

    const catalog = json(await admin(["models", "ls", "--hive", HIVE, "--json"])) as Array<{ id: string; status: string }>;
    expect(catalog).toEqual(expect.arrayContaining([expect.objectContaining({ id: `hf:${REPO}`, status: "available" })]));
    expect((await admin(["models", "rm", `hf:${REPO}`, "--hive", HIVE])).exitCode).toBe(0);
    // A failed entry says why in the listing, as the job's data does.
    const hiveCatalog = new FilesystemCatalog(join(cloud.cacheDir, "models"), ModelArtifact, "model");
    const cut = { id: "hf:org/cut-GGUF:cut.gguf", status: { state: "failed" as const, reason: "interrupted: the hive stopped; ask for it again to resume" }, sizeBytes: null, addedAt: new Date().toISOString(), details: null };
    await hiveCatalog.add(cut);
    expect((await admin(["models", "ls", "--hive", HIVE])).stdout).toMatch(/^hf:org\/cut-GGUF:cut\.gguf +failed: interrupted: the hive stopped; ask for it again to resume/m);
    await hiveCatalog.remove(cut.id);

    const submitted = await call(cloud, "POST", "/v1/jobs", { operation: "model_download", hive: HIVE, model: `hf:${REPO}` });
    const { job_id: jobId } = submitted.json as { job_id: string };
    const watched = await admin(["jobs", "watch", jobId]);
    expect(watched.exitCode, String(watched.stderr)).toBe(0);
    expect(watched.stdout).toMatch(new RegExp(`${jobId} ${jobId} \\d+% `));
    expect(watched.stdout).toContain(`${jobId} done`);

    const jobs = json(await admin(["jobs", "ls", "--json"])) as Array<{ id: string; status: string }>;
    expect(jobs).toEqual(expect.arrayContaining([expect.objectContaining({ id: jobId, status: "done" })]));
    expect((await admin(["jobs", "cancel", jobId])).exitCode).toBe(1); // it already ended
  });
});
