// Debian's chromium for the browser tests, driven by playwright-core: found on PATH as `.ci/run`
// checks for it (RBEE_CHROMIUM names another), started headless with the flags this machine needs.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { type Browser, chromium } from "playwright-core";

const CHROMIUM = process.env.RBEE_CHROMIUM ?? [...(process.env.PATH ?? "").split(delimiter), "/usr/bin"].map((folder) => join(folder, "chromium")).find((path) => existsSync(path));

/** A headless chromium; throws, saying how to install one, when there is none. */
export async function launchChromium(): Promise<Browser> {
  if (CHROMIUM === undefined || !existsSync(CHROMIUM)) {
    throw new Error(
      `No chromium ${CHROMIUM === undefined ? "on PATH" : `at ${CHROMIUM}`}: the browser tests need Debian's chromium. Install it with ` +
        "`sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium`, or point RBEE_CHROMIUM at a Chromium binary.",
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}
