// Three test projects: `queen` runs inside workerd (vitest-pool-workers) with D1 migrations
// applied; `node` runs the hive, worker, shared code and the end-to-end tests as real processes;
// `drills` runs the fault drills of test/drills (the quick ones also run in `node`).
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations("./migrations");

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // QUEUE_MAX_PER_MODEL: small enough that test/queen/queue.test.ts fills a queue, deeper than its 64-request burst.
              // RBEE_ADMIN_KEY: at least the 16 characters the queen takes (shared/admin-key.ts).
              // MAX_WORKERS_PER_HIVE: a cap test/queen/registry-truth.test.ts reaches with few spawns (64 at once load a busy machine past the 200 ms liveness window).
              bindings: { RBEE_ADMIN_KEY: "rbee_sk_queen_test_admin_key", HEARTBEAT_INTERVAL_MS: "200", QUEUE_MAX_PER_MODEL: "80", MAX_WORKERS_PER_HIVE: "8", TEST_MIGRATIONS: migrations },
            },
          }),
        ],
        test: {
          name: "queen",
          include: ["test/queen/**/*.test.ts"],
          setupFiles: ["./test/queen/apply-migrations.ts", "./test/queen/end-test-hives.ts"],
        },
      },
      {
        test: {
          name: "node",
          include: ["shared/**/*.test.ts", "hive/**/*.test.ts", "worker/**/*.test.ts", "test/node/**/*.test.ts", "test/drills/**/*.test.ts"],
          // Slow drills run only in `npm run drills`.
          exclude: ["test/drills/**/*.slow.test.ts"],
          environment: "node",
          pool: "forks",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "drills",
          include: ["test/drills/**/*.test.ts"],
          environment: "node",
          pool: "forks",
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
