// A hive's name: chosen by its operator, used in URLs, logs and Durable Object names.
import { z } from "zod";

export const HiveName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be letters, digits and . _ - only, starting with a letter or digit");
