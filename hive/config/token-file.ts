// Reads the hive's token from a file (--token-file, RBEE_HIVE_TOKEN_FILE or `tokenFile` in the
// config file): the way to keep it off the command line, where `ps` shows it to every user, and
// out of an environment that child processes inherit. Used by ./options.ts.
import { UsageError } from "../../shared/usage-error.js";
import { readFileWithMode, refuseSharedSecretFile } from "./private-file.js";

/** The token in `filePath`, without surrounding whitespace; `label` names the option in errors. */
export function readTokenFile(filePath: string, label: string): string {
  let file;
  try {
    file = readFileWithMode(filePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${label}: cannot read ${filePath} (${code ?? (error as Error).message})`, { cause: error });
  }
  refuseSharedSecretFile(filePath, file.mode, "the hive's token");
  const token = file.text.trim();
  // Never the content in a message: a wrong file might still hold someone's secret.
  if (token === "") throw new UsageError(`${label}: ${filePath} is empty; expected the token from POST /v1/hives`);
  if (/\s/.test(token)) throw new UsageError(`${label}: ${filePath} holds more than one word; expected the token alone`);
  return token;
}
