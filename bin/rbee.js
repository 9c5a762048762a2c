#!/usr/bin/env node
// `rbee`: runs the operator CLI's TypeScript through tsx, so there is no build step to forget.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
