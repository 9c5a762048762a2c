// `rbee-hive connect`: reads the options, starts the hive, and stops it on SIGINT/SIGTERM, on an
// uncaught exception (./processes/crash-guard.ts) or when the supervisor that owns it is gone.
// hive/cli.ts runs it through the commander program (./cli-program.ts).
import os from "node:os";
import { checkLogFormat, createLogger, type LogFn, logFormatFor } from "../shared/log/json-log.js";
import { exitWithParentPid } from "../shared/protocol/exit-with-parent.js";
import { ignoreBrokenOutput } from "../shared/ignore-broken-output.js";
import { watchParent } from "../shared/watch-parent.js";
import { parseConnectOptions } from "./config/options.js";
import { HIVE_EXIT } from "./cli-program.js";
import { Hive } from "./hive.js";
import { installCrashGuard, stopThenExit } from "./processes/crash-guard.js";
import { ProgressPrinter } from "./progress/progress-printer.js";

/**
 * A second signal this soon after the first is the same request arriving twice (a terminal's
 * Ctrl-C reaches the whole process group, and a supervisor such as `npm start` sends SIGTERM
 * too); only a later one means "stop waiting".
 */
const SAME_REQUEST_WINDOW_MS = 2000;

/** Starts the hive; resolves once it is up (it then runs until stopped). Throws UsageError for a bad option. */
export async function connect(args: string[]): Promise<void> {
  const options = parseConnectOptions(args, process.env, os.hostname());
  checkLogFormat(process.env);
  // Every line goes through the printer, so a download's live bar is never garbled by a log line;
  // off a terminal, the printer's progress lines are log lines too, so a JSON log stays JSON.
  const logger = createLogger({ role: "hive", format: logFormatFor(process.stdout, process.env), write: (line) => printer.log(line) });
  const printer = new ProgressPrinter(process.stdout, undefined, (line) => logger.info(line));
  const log: LogFn = (msg, fields) => logger.info(msg, fields);
  if (options.configFile !== null) log(`rbee-hive: options from ${options.configFile}`, { config_file: options.configFile });
  for (const warning of options.warnings) logger.warn(`rbee-hive: warning: ${warning}`);
  let hive: Hive | undefined;
  const exit = (code: number) => process.exit(code);
  // Before start(): a crash while starting must stop what already runs, not leave it half up.
  installCrashGuard(process, { log, stop: () => hive?.stop() ?? Promise.resolve(), exit });
  // A refused token is final: an exit status of its own, so a supervisor can tell it from a crash
  // and stop rather than start the hive again with the same token.
  hive = new Hive(options, log, () => exit(HIVE_EXIT.refused), printer);
  await hive.start();

  let stoppingSince: number | undefined;
  const stop = (why: string) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince > SAME_REQUEST_WINDOW_MS) exit(1); // asked again: don't wait any longer
      return;
    }
    stoppingSince = Date.now();
    // Workers outlive the hive unless asked: a restarted hive re-attaches them, models still loaded.
    const workers = options.stopWorkersOnExit ? "stopping its workers too" : "leaving workers running for the next hive to re-attach";
    log(`rbee-hive: ${why}, stopping (${workers})`);
    void stopThenExit(() => hive?.stop() ?? Promise.resolve(), log, exit, 0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stop(signal));

  // A hive owned by a supervisor (`npm start`) stops with it: when that supervisor is gone, even by
  // SIGKILL, the hive takes the path a SIGTERM takes (stopping its workers if it was asked to).
  const parentPid = exitWithParentPid(process.env);
  if (parentPid !== undefined) {
    ignoreBrokenOutput(); // the output goes to that supervisor: once it is gone, writes fail
    // A closed terminal hangs up its whole process group; the supervisor then stops this hive (and
    // it its workers) by SIGTERM. Dying of the SIGHUP at once would leave the workers running.
    process.on("SIGHUP", () => {});
    // Called, not signalled to itself: on Windows process.kill(own pid) would end it on the spot.
    watchParent(() => stop(`its parent (pid ${parentPid}) is gone`), parentPid);
  }
}
