// The error a command-line program (`rbee-hive`, the worker) exits 2 with: a bad flag,
// environment variable or config file. Its message names the flag (or the file and key), what
// was expected and what arrived.
export class UsageError extends Error {
  override readonly name = "UsageError";
}
