#!/usr/bin/env node
// `rbee-hive`: runs the hive's TypeScript CLI through tsx, so there is no build step to forget.
import { register } from "tsx/esm/api";

register();
await import("../hive/cli.ts");
