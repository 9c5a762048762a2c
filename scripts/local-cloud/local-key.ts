// The local cloud's admin key, kept in its state folder (`admin-key`, readable by its owner only)
// so `npm start` serves the same key after every restart: clients and the rbee CLI configured
// once keep working. RBEE_API_KEY or RBEE_ADMIN_KEY, when set, win and are not saved.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const KEY_FILE = "admin-key";
/** What the queen's keys look like (queen/auth/secrets.ts); a file holding anything else is replaced. */
const KEY_PATTERN = /^rbee_sk_[A-Za-z0-9_-]{16,}$/;

export async function localAdminKey(stateDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const given = env.RBEE_API_KEY || env.RBEE_ADMIN_KEY;
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
