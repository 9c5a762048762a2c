// The `rbee-hive` command line as a commander program, with the conventions of the `rbee` CLI
// (cli/main.ts): --help on the program and on each command, usage errors that name the flag and
// point at the help, and exit statuses that mean something. hive/cli.ts runs it; tests drive it
// in-process with their own output and actions.
import { Command, CommanderError } from "commander";
import { UsageError } from "../shared/usage-error.js";
import { CONNECT_SUMMARY, CONNECT_USAGE, connectFlags } from "./config/options.js";
import { VERSION_LINE } from "../shared/rbee-version.js";

/**
 * Exit statuses of `rbee-hive`, numbered as `rbee`'s: 1 the hive failed, 2 a usage error, 3 the
 * queen refused its name or token (revoked, rotated or wrong), which no restart with the same token
 * fixes: a supervisor such as npm start stops rather than start it again.
 */
export const HIVE_EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

export interface HiveCommands {
  /** Runs the daemon with `connect`'s own arguments, which parseConnectOptions reads (flags, env, config file). */
  connect(args: string[]): Promise<void>;
}

export interface ProgramOutput {
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
}

const CONNECT_HELP = "rbee-hive connect --help lists every option";

/**
 * Runs `rbee-hive` on `argv` (the arguments after the program's name) and resolves with the exit
 * status once its command returned: for `connect`, once the hive is up (it then runs on).
 */
export async function runHiveCli(argv: string[], commands: HiveCommands, output: ProgramOutput): Promise<number> {
  const program = hiveProgram(argv, commands, output);
  try {
    await program.parseAsync(argv, { from: "user" });
    return HIVE_EXIT.ok;
  } catch (error) {
    return exitStatusFor(error, output.writeErr);
  }
}

function hiveProgram(argv: string[], commands: HiveCommands, output: ProgramOutput): Command {
  const program = new Command("rbee-hive")
    .description("The hive of an rbee cloud: runs on each GPU machine, holds one outbound connection to the queen and runs the workers it asks for.")
    .addHelpText(
      "after",
      `
connect's options, each also from an environment variable or a hive.json key:
${CONNECT_USAGE}

Exit status: 0 stopped cleanly, 1 the hive failed, 2 usage error, 3 the queen refused its name or token
(revoked, rotated or wrong: starting it again with the same token is refused again).
Get a token: rbee hives add <name> (or POST /v1/hives with an admin key) on the queen.`,
    )
    .version(VERSION_LINE)
    .showHelpAfterError("(rbee-hive <command> --help shows the usage)")
    // Set before the commands are added, so each inherits it: usage errors exit 2, not commander's 1.
    .exitOverride();
  program.configureOutput(output);

  const connect = program
    .command("connect")
    .summary("connect this machine to a queen as a hive and run the workers it asks for")
    .description(CONNECT_SUMMARY)
    .usage("--queen <url> [options]   (the token from RBEE_HIVE_TOKEN, --token-file or the config file)")
    .showHelpAfterError(`(${CONNECT_HELP})`);
  // Declared for --help and so a misspelt flag gets commander's "did you mean"; the values are
  // then read by parseConnectOptions, from the same table, with the environment and config file.
  for (const { flags, description } of connectFlags()) connect.option(flags, description);
  // The program has no options of its own, so everything after `connect` is connect's.
  connect.action(async () => {
    await commands.connect(argv.slice(argv.indexOf("connect") + 1));
  });
  return program;
}

/**
 * What the process exits with after the program threw: commander already printed its own
 * messages; a UsageError is printed here with where to read more.
 */
function exitStatusFor(error: unknown, writeErr: (text: string) => void): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? HIVE_EXIT.ok : HIVE_EXIT.usage;
  if (error instanceof UsageError) {
    writeErr(`rbee-hive connect: ${error.message}\n(${CONNECT_HELP})\n`);
    return HIVE_EXIT.usage;
  }
  writeErr(`rbee-hive: ${error instanceof Error ? error.message : String(error)}\n`);
  return HIVE_EXIT.failed;
}
