// Why `npm start` will not start here and now — another instance holds the state folder,
// something else holds the port, or a newer rbee migrated the state folder's database — with a
// message saying what to do instead. start.ts exits with
// its own status for it, so a script or supervisor can tell it from a crash.
export type StartRefusedCode = "instance_running" | "port_in_use" | "database_newer";

export class StartRefused extends Error {
  override readonly name = "StartRefused";

  constructor(
    readonly code: StartRefusedCode,
    message: string,
  ) {
    super(message);
  }
}
