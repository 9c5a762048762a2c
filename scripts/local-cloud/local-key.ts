// The local cloud's admin key, kept in its state folder (`admin-key`, readable by its owner only)
// so `npm start` serves the same key after every restart: clients and the rbee CLI configured
// once keep working. RBEE_API_KEY or RBEE_ADMIN_KEY, when set, win and are not saved; one shorter
// than the queen takes (shared/admin-key.ts) is refused here, before anything starts, rather
// than handed to a queen that would refuse every request made with it.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isTooShortForAdminKey, MIN_ADMIN_KEY_LENGTH } from "../../shared/admin-key.js";
import { UsageError } from "../../shared/usage-error.js";

const KEY_FILE = "admin-key";
/** What the queen's keys look like (queen/auth/secrets.ts); a file holding anything else is replaced. */
const KEY_PATTERN = /^rbee_sk_[A-Za-z0-9_-]{16,}$/;

/** The key RBEE_API_KEY (or else RBEE_ADMIN_KEY) sets, if any; a UsageError naming the variable when it is too short. */
export function givenAdminKey(env: NodeJS.ProcessEnv): string | undefined {
  const name = env.RBEE_API_KEY ? "RBEE_API_KEY" : env.RBEE_ADMIN_KEY ? "RBEE_ADMIN_KEY" : undefined;
  if (name === undefined) return undefined;
  const key = env[name] ?? "";
  if (isTooShortForAdminKey(key)) {
    // Its length only: the key itself is a secret, and this line may end up in a CI log.
    throw new UsageError(
      `${name}: expected a key of at least ${MIN_ADMIN_KEY_LENGTH} characters (the queen refuses a shorter admin key), got one of ${key.length}. ` +
        `Set a long random one (openssl rand -hex 32), or unset it to have one generated and kept in the state folder's ${KEY_FILE}`,
    );
  }
  return key;
}

export async function localAdminKey(stateDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const given = givenAdminKey(env);
  if (given) return given;
  const path = join(stateDir, KEY_FILE);
  const saved = (await readFile(path, "utf8").catch(() => "")).trim();
  if (KEY_PATTERN.test(saved)) return saved;
  const key = `rbee_sk_${crypto.randomUUID().replaceAll("-", "")}`;
  await mkdir(stateDir, { recursive: true });
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  await chmod(path, 0o600); // the mode applies only to a file created now
  return key;
}
