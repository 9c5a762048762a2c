// drizzle-kit reads the queen's schema and writes SQL migrations that wrangler applies to D1.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./queen/db/schema.ts",
  out: "./migrations",
});
