// The service files that keep a hive running (deploy/): the systemd unit and the launchd plist
// run the README's hive command, take the token from a file rather than their arguments, and
// are files their tools accept. The README's commands themselves run in readme-commands.test.ts.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-cloud/queen.js";
import { readmeBlocks, shellCommands } from "./readme-blocks.js";

const UNIT = join(PROJECT_ROOT, "deploy", "systemd", "rbee-hive.service");
const PLIST = join(PROJECT_ROOT, "deploy", "launchd", "dev.rbee.hive.plist");
/** The command the README's guide starts the hive with on a GPU machine. */
const HIVE_COMMAND = "rbee-hive connect";

/** The values of `key=` lines in a unit's section. */
function unitValues(text: string, section: string, key: string): string[] {
  const body = text.split(/^\[/m).find((part) => part.startsWith(`${section}]`)) ?? "";
  return body
    .split("\n")
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/** The plist as JSON, by Python's plistlib, which refuses what is not a well-formed property list. */
function parsePlist(path: string): Record<string, unknown> {
  const script = "import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))";
  return JSON.parse(execFileSync("python3", ["-c", script, path], { encoding: "utf8" })) as Record<string, unknown>;
}

describe("the hive's service files", () => {
  const unit = readFileSync(UNIT, "utf8");

  it("starts, in the README's guide, the hive with the command both service files run", () => {
    const readmeCommands = readmeBlocks(readFileSync(join(PROJECT_ROOT, "README.md"), "utf8")).flatMap((block) => shellCommands(block.text));
    expect(readmeCommands).toContain(HIVE_COMMAND);
  });

  it("runs the hive command in the systemd unit, through env so PATH finds npm's global bin", () => {
    expect(unitValues(unit, "Service", "ExecStart")).toEqual([`/usr/bin/env ${HIVE_COMMAND}`]);
    // Only the hive is stopped: its detached workers stay for the next hive.
    expect(unitValues(unit, "Service", "KillMode")).toEqual(["process"]);
    expect(unitValues(unit, "Install", "WantedBy")).toEqual(["default.target"]);
  });

  it("keeps the token out of both files' arguments and environment", () => {
    expect(unit).not.toMatch(/--token\b|RBEE_HIVE_TOKEN=/);
    const plist = parsePlist(PLIST);
    expect(JSON.stringify(plist)).not.toMatch(/--token\b|RBEE_HIVE_TOKEN"/);
  });

  it("gives the launchd plist, well-formed, the same program arguments as the unit's ExecStart", () => {
    const plist = parsePlist(PLIST);
    expect(plist.Label).toBe("dev.rbee.hive");
    expect(plist.ProgramArguments).toEqual(unitValues(unit, "Service", "ExecStart")[0]?.split(" "));
    expect(plist).toMatchObject({ RunAtLoad: true, KeepAlive: { SuccessfulExit: false }, AbandonProcessGroup: true });
  });

  it.runIf(spawnSync("systemd-analyze", ["--version"]).status === 0)("passes systemd-analyze verify with nothing to say", () => {
    const verify = spawnSync("systemd-analyze", ["verify", UNIT], { encoding: "utf8" });
    expect(verify.stderr).toBe("");
    expect(verify.status).toBe(0);
  });
});
