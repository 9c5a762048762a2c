// `rbee-hive`: the command line of the hive daemon (bin/rbee-hive.js runs it). Its one command,
// `connect`, starts the daemon, which then runs until stopped; the program is ./cli-program.ts.
import { runHiveCli } from "./cli-program.js";
import { connect } from "./connect-command.js";

const status = await runHiveCli(process.argv.slice(2), { connect }, {
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
});
// 0 after --help, or once `connect` is up: the daemon keeps the process alive from there.
if (status !== 0) process.exit(status);
