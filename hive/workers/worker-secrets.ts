// The secrets a hive gives its workers (in their environment, WORKER_SECRET_ENV) and sends with
// every request it relays to them. Each is HMAC-SHA256(hive key, worker id): a worker that
// outlived its hive is still reachable by the restarted hive, which reads the same key from
// `<run folder>/hive-<name>.key` (--run-dir, default `<cache-dir>/run`; created once, 0600, 32
// random bytes) and recomputes the secret, so no secret is ever written down. Used by the hive (spawn jobs and the request relay).
import { createHmac, randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { RbeeError } from "../../shared/errors.js";

/** Bytes of randomness in a hive key. */
const KEY_BYTES = 32;
/** Worker secrets kept computed; more workers than this at once on one machine is far beyond its slots. */
const MAX_KNOWN_SECRETS = 256;

export class WorkerSecrets {
  /** Secrets computed so far: every relayed request needs its worker's, and an HMAC costs the hive ~0.1 ms. */
  private readonly known = new Map<string, string>();

  private constructor(private readonly key: Buffer) {}

  /**
   * Reads the hive's key from `keyFile`, or creates it (0600, in a 0700 folder) when there is
   * none. Refuses a key file other users may read: anyone holding it can use every worker.
   */
  static async load(keyFile: string): Promise<WorkerSecrets> {
    await mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    const existing = await readKey(keyFile);
    if (existing) return new WorkerSecrets(existing);
    const key = randomBytes(KEY_BYTES);
    try {
      // `wx`: two hives racing to create it must not each keep a different key.
      const handle = await open(keyFile, "wx", 0o600);
      try {
        await handle.writeFile(key.toString("hex"));
      } finally {
        await handle.close();
      }
      // open's mode is filtered by the umask; make sure nobody else ever may read it.
      await chmod(keyFile, 0o600);
      return new WorkerSecrets(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const raced = await readKey(keyFile);
      if (!raced) throw new RbeeError(500, "hive_key_unreadable", `${keyFile} appeared while this hive created it, but holds no key; remove it and start again`);
      return new WorkerSecrets(raced);
    }
  }

  /** The secret of worker `workerId`: 64 hex digits, the same for every hive holding this key. */
  secretFor(workerId: string): string {
    let secret = this.known.get(workerId);
    if (secret === undefined) {
      secret = createHmac("sha256", this.key).update(workerId).digest("hex");
      // Worker ids are the queen's, one per spawn; a hive that ran through many forgets the oldest.
      if (this.known.size >= MAX_KNOWN_SECRETS) this.known.delete(this.known.keys().next().value as string);
      this.known.set(workerId, secret);
    }
    return secret;
  }
}

/** The hive key file for hive `hiveName` in its run folder, beside its channel socket. */
export function hiveKeyPath(runDir: string, hiveName: string): string {
  // The hive name is validated (letters, digits, . _ -), so it is a safe file name.
  return path.join(path.resolve(runDir), `hive-${hiveName}.key`);
}

async function readKey(keyFile: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(keyFile, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (process.platform !== "win32") {
    const mode = (await stat(keyFile)).mode;
    if ((mode & 0o077) !== 0) {
      throw new RbeeError(500, "hive_key_exposed", `${keyFile} may be read by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${keyFile}`);
    }
  }
  const hex = text.trim();
  if (!new RegExp(`^[0-9a-f]{${KEY_BYTES * 2}}$`).test(hex)) {
    throw new RbeeError(500, "hive_key_unreadable", `${keyFile} does not hold a hive key (${KEY_BYTES * 2} hex digits); remove it to have a new one made (workers started with the old key must then be restarted)`);
  }
  return Buffer.from(hex, "hex");
}
