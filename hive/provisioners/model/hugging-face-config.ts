// Where the Hugging Face vendor finds the hub and the access token, read the way huggingface_hub
// reads them, so a machine already set up for `hf download` works unchanged: HF_ENDPOINT (default
// https://huggingface.co, trailing slashes dropped); the token from HF_TOKEN, else the older
// HUGGING_FACE_HUB_TOKEN, else the file `hf auth login` writes (HF_TOKEN_PATH, default
// $HF_HOME/token with HF_HOME defaulting to $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { RbeeError } from "../../../shared/errors.js";

export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

export type Environment = Readonly<Record<string, string | undefined>>;

export interface HuggingFaceConfig {
  /** e.g. `https://huggingface.co`, without a trailing slash. */
  endpoint: string;
  /** Sent as `Authorization: Bearer <token>` to the hub, never to other origins; null for none. */
  token: string | null;
  /** Where the token came from, for messages: `HF_TOKEN`, or the token file's path. */
  tokenSource: string | null;
}

export async function huggingFaceConfig(env: Environment): Promise<HuggingFaceConfig> {
  // huggingface_hub takes an empty HF_ENDPOINT literally and then fails on every request; an
  // empty variable is far more often an unset one, so it means the default here.
  const endpoint = (env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT).replace(/\/+$/, "");
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new RbeeError(500, "invalid_hf_endpoint", `HF_ENDPOINT '${endpoint}' is not a URL; set it to the hub's base URL, e.g. ${DEFAULT_HF_ENDPOINT}`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new RbeeError(500, "invalid_hf_endpoint", `HF_ENDPOINT '${endpoint}' must be an http(s) URL, e.g. ${DEFAULT_HF_ENDPOINT}`);
  }
  const fromEnvironment = cleanToken(env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN);
  if (fromEnvironment !== null) {
    return { endpoint, token: fromEnvironment, tokenSource: env.HF_TOKEN ? "HF_TOKEN" : "HUGGING_FACE_HUB_TOKEN" };
  }
  const tokenPath = tokenFilePath(env);
  const fromFile = await readFile(tokenPath, "utf8").then(cleanToken, () => null);
  return { endpoint, token: fromFile, tokenSource: fromFile === null ? null : tokenPath };
}

function tokenFilePath(env: Environment): string {
  if (env.HF_TOKEN_PATH) return env.HF_TOKEN_PATH;
  const home = env.HOME || homedir();
  const hfHome = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(home, ".cache"), "huggingface");
  return path.join(hfHome, "token");
}

/** As huggingface_hub's `_clean_token`: line breaks and surrounding blanks dropped; empty means none. */
function cleanToken(token: string | undefined): string | null {
  if (token === undefined) return null;
  return token.replace(/[\r\n]/g, "").trim() || null;
}
