// `npm run bench -- <name> [flags]`: runs bench/<name>.ts with the flags after the name, so every
// benchmark has one entry point (conversations, frame-parse, queen-path, registry, relay, streams, worker-start, worker-throughput).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const [name, ...flags] = process.argv.slice(2);
const file = name && /^[a-z][a-z0-9-]*$/.test(name) ? fileURLToPath(new URL(`./${name}.ts`, import.meta.url)) : undefined;
if (!file || name === "run" || !existsSync(file)) {
  process.stderr.write(`Usage: npm run bench -- <conversations | frame-parse | queen-path | registry | relay | streams | worker-start | worker-throughput> [flags]\n`);
  process.exit(2);
}
// Each benchmark reads its flags from process.argv.slice(2), as when run directly.
process.argv = [process.argv[0] ?? "node", file, ...flags];
await import(file);
