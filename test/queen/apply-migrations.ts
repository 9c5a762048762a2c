// Applies the committed D1 migrations before the queen's tests run (idempotent per run).
import { applyD1Migrations, env } from "cloudflare:test";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
