// watchParent, with real processes: a child started by a parent that is then SIGKILLed notices
// that its parent is gone, which is how `npm start` and its hive stop when their owner dies.
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { isAlive } from "../test/node/local-cloud.js";
import { waitUntil } from "./wait-until.js";

const WATCH_PARENT = fileURLToPath(new URL("./watch-parent.ts", import.meta.url));

// The child watches its parent and says so; the parent only starts it and waits to be killed.
const CHILD = `import { watchParent } from ${JSON.stringify(WATCH_PARENT)};
watchParent(() => { console.log("parent gone"); process.exit(0); });
console.log("watching " + process.pid);
setInterval(() => {}, 1000);`;
const PARENT = `const { spawn } = require("node:child_process");
spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", ${JSON.stringify(CHILD)}], { stdio: ["ignore", "inherit", "inherit"] });
setInterval(() => {}, 1000);`;

describe("watchParent", () => {
  it("calls back once the process's parent is killed with SIGKILL", { timeout: 60_000 }, async () => {
    const parent = execa(process.execPath, ["-e", PARENT], { all: true, reject: false });
    let output = "";
    parent.all.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    let childPid = 0;
    try {
      await waitUntil(() => /watching \d+/.test(output) || parent.exitCode !== null, 30_000, "the child to watch its parent");
      childPid = Number(/watching (\d+)/.exec(output)?.[1]);
      expect(output).not.toContain("parent gone");

      parent.kill("SIGKILL");
      await waitUntil(() => !isAlive(childPid), 10_000, "the orphaned child to exit");
      expect(output).toContain("parent gone");
    } finally {
      if (childPid > 0 && isAlive(childPid)) process.kill(childPid, "SIGKILL");
      parent.kill("SIGKILL");
    }
  });
});
