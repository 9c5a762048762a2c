// `rbee-hive`: the command line of the hive daemon. Today it has one command, `connect`.
import os from "node:os";
import { Hive } from "./hive.js";
import { CONNECT_USAGE, parseConnectOptions, UsageError } from "./options.js";

const [command, ...rest] = process.argv.slice(2);

if (command === undefined || command === "-h" || command === "--help" || rest.includes("--help") || rest.includes("-h")) {
  console.log(CONNECT_USAGE);
  process.exit(command === undefined ? 2 : 0);
}
if (command !== "connect") {
  console.error(`rbee-hive: unknown command '${command}'\n\n${CONNECT_USAGE}`);
  process.exit(2);
}

let options;
try {
  options = parseConnectOptions(rest, process.env, os.hostname());
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`rbee-hive connect: ${error.message}\n\n${CONNECT_USAGE}`);
  process.exit(2);
}

// A revoked token is final: exit non-zero so a supervisor shows it instead of looping.
const hive = new Hive(options, undefined, () => process.exit(1));
await hive.start();

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1); // a second signal: don't wait any longer
    stopping = true;
    console.log(`rbee-hive: ${signal}, stopping`);
    void hive.stop().then(() => process.exit(0));
  });
}
