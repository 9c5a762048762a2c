// `rbee-hive`: the command line of the hive daemon. Today it has one command, `connect`.
import os from "node:os";
import { Hive } from "./hive.js";
import { UsageError } from "../shared/usage-error.js";
import { CONNECT_USAGE, parseConnectOptions } from "./config/options.js";
import { installCrashGuard, stopThenExit } from "./processes/crash-guard.js";
import { ProgressPrinter } from "./progress/progress-printer.js";
import { exitWithParentPid } from "../shared/protocol/exit-with-parent.js";
import { watchParent } from "../shared/watch-parent.js";
import { ignoreBrokenOutput } from "../shared/ignore-broken-output.js";

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

if (options.configFile !== null) console.log(`rbee-hive: options from ${options.configFile}`);
for (const warning of options.warnings) console.error(`rbee-hive: warning: ${warning}`);

// Every line goes through the printer, so a download's live bar is never garbled by a log line.
const printer = new ProgressPrinter(process.stdout);
const log = (line: string) => printer.log(line);
let hive: Hive | undefined;
// Before start(): a crash while starting must stop what already runs, not leave it half up.
installCrashGuard(process, { log, stop: () => hive?.stop() ?? Promise.resolve(), exit: (code) => process.exit(code) });
try {
  // A revoked token is final: exit non-zero so a supervisor shows it instead of looping.
  hive = new Hive(options, log, () => process.exit(1), printer);
  await hive.start();
} catch (error) {
  console.error(`rbee-hive connect: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/**
 * A second signal this soon after the first is the same request arriving twice (a terminal's
 * Ctrl-C reaches the whole process group, and a supervisor such as `npm start` sends SIGTERM
 * too); only a later one means "stop waiting".
 */
const SAME_REQUEST_WINDOW_MS = 2000;
let stoppingSince: number | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince > SAME_REQUEST_WINDOW_MS) process.exit(1); // asked again: don't wait any longer
      return;
    }
    stoppingSince = Date.now();
    // Workers outlive the hive unless asked: a restarted hive re-attaches them, models still loaded.
    const workers = options.stopWorkersOnExit ? "stopping its workers too" : "leaving workers running for the next hive to re-attach";
    log(`rbee-hive: ${signal}, stopping (${workers})`);
    void stopThenExit(() => hive?.stop() ?? Promise.resolve(), log, (code) => process.exit(code), 0);
  });
}

// A hive owned by a supervisor (`npm start`) stops with it: when that supervisor is gone, even by
// SIGKILL, the hive takes the path a SIGTERM takes (stopping its workers if it was asked to).
const parentPid = exitWithParentPid(process.env);
if (parentPid !== undefined) {
  ignoreBrokenOutput(); // the output goes to that supervisor: once it is gone, writes fail
  // A closed terminal hangs up its whole process group; the supervisor then stops this hive (and
  // it its workers) by SIGTERM. Dying of the SIGHUP at once would leave the workers running.
  process.on("SIGHUP", () => {});
  watchParent(() => {
    log(`rbee-hive: its parent (pid ${parentPid}) is gone`);
    process.kill(process.pid, "SIGTERM");
  }, parentPid);
}
