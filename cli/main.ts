// `rbee`: the operator's command line for an rbee cloud. It talks only to the queen's HTTP API
// (RBEE_QUEEN_URL / RBEE_API_KEY, or the config `rbee login` writes). Exit status: 0 ok, 1 the
// queen refused or a job failed, 2 a usage error, 3 no queen reachable or answering, or the key refused.
import { Command, CommanderError } from "commander";
import { VERSION_LINE } from "../shared/rbee-version.js";
import { UsageError } from "../shared/usage-error.js";
import { CliError, EXIT } from "./cli-error.js";
import { registerChat } from "./commands/chat.js";
import { registerHives } from "./commands/hives.js";
import { registerJobs } from "./commands/jobs.js";
import { registerKeys } from "./commands/keys.js";
import { registerLogin } from "./commands/login.js";
import { registerModels } from "./commands/models.js";
import { registerStatus } from "./commands/status.js";
import { registerUsage } from "./commands/usage.js";
import { registerWorkers } from "./commands/workers.js";
import { CliContext } from "./context.js";

const program = new Command("rbee")
  .description("Operate an rbee cloud: hives, workers, models, jobs, keys, usage and chat, through the queen's API.")
  .addHelpText(
    "after",
    `
Config: ~/.config/rbee/config.json (XDG_CONFIG_HOME respected), written by rbee login;
RBEE_QUEEN_URL and RBEE_API_KEY override it. npm start prints the line for its local cloud.
RBEE_TIMEOUT_SECONDS: how long to wait for the queen to begin answering (default 30).
Exit status: 0 ok, 1 the queen refused or a job failed, 2 usage error, 3 queen unreachable, not
answering in time, or key refused.`,
  )
  .version(VERSION_LINE)
  .showHelpAfterError("(rbee <command> --help shows the usage)")
  // Set before the commands are added, so every subcommand inherits it: usage errors exit 2, not commander's 1.
  .exitOverride();

const context = new CliContext(process.env);
registerLogin(program, context);
registerStatus(program, context);
registerHives(program, context);
registerWorkers(program, context);
registerModels(program, context);
registerJobs(program, context);
registerKeys(program, context);
registerUsage(program, context);
registerChat(program, context);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitStatusFor(error);
}

function exitStatusFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // commander printed it
  if (error instanceof UsageError) {
    process.stderr.write(`rbee: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`rbee: ${error.message}\n`);
    return error.exitStatus;
  }
  throw error;
}
