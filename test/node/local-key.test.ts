// npm start's admin key stays the same across restarts: kept in the state folder, readable by its
// owner only; a key from the environment wins and is not saved.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { localAdminKey } from "../../scripts/local-cloud/local-key.js";
import { UsageError } from "../../shared/usage-error.js";

describe("npm start's local admin key", () => {
  const dirs: string[] = [];
  const stateDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "rbee-key-"));
    dirs.push(dir);
    return join(dir, ".rbee");
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it("generates a key once and gives the same one on every later start, in a file only its owner reads", async () => {
    const dir = await stateDir();
    const first = await localAdminKey(dir, {});
    expect(first).toMatch(/^rbee_sk_/);
    expect(await localAdminKey(dir, {})).toBe(first);
    expect((await stat(join(dir, "admin-key"))).mode & 0o777).toBe(0o600);
  });

  it("uses RBEE_API_KEY (or RBEE_ADMIN_KEY) when set, without saving it", async () => {
    const dir = await stateDir();
    expect(await localAdminKey(dir, { RBEE_API_KEY: "rbee_sk_from_env" })).toBe("rbee_sk_from_env");
    expect(await localAdminKey(dir, { RBEE_ADMIN_KEY: "rbee_sk_admin_env" })).toBe("rbee_sk_admin_env");
    await expect(stat(join(dir, "admin-key"))).rejects.toThrow();
  });

  it("refuses an RBEE_API_KEY or RBEE_ADMIN_KEY shorter than 16 characters, naming the variable and the minimum, never the key", async () => {
    const dir = await stateDir();
    for (const name of ["RBEE_API_KEY", "RBEE_ADMIN_KEY"]) {
      const refusal = await localAdminKey(dir, { [name]: "abc" }).catch((error: unknown) => error);
      expect(refusal, name).toBeInstanceOf(UsageError);
      expect((refusal as UsageError).message, name).toContain(`${name}: expected a key of at least 16 characters`);
      expect((refusal as UsageError).message, name).toContain("got one of 3");
      expect((refusal as UsageError).message, name).not.toContain("abc");
    }
    await expect(stat(join(dir, "admin-key"))).rejects.toThrow();
  });

  it("replaces a key file that holds no key", async () => {
    const dir = await stateDir();
    await localAdminKey(dir, {});
    await writeFile(join(dir, "admin-key"), "garbage\n");
    const key = await localAdminKey(dir, {});
    expect(key).toMatch(/^rbee_sk_[A-Za-z0-9_-]{16,}$/);
    expect((await readFile(join(dir, "admin-key"), "utf8")).trim()).toBe(key);
  });
});
