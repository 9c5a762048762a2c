// Every item of a queen listing, for the `rbee` commands that list or count. Paged lists (GET
// /v1/keys, /v1/usage; queen/http/list-page.ts) answer a page with `has_more` and `next_after`,
// which goes back as `after` for the next page; a list without them is whole in one answer.
import { z } from "zod";
import { CliError, EXIT } from "./cli-error.js";
import type { QueenApi } from "./queen-api.js";
import { listOf } from "./queen-views.js";

function pageOf<T extends z.ZodType>(item: T) {
  return listOf(item).extend({ has_more: z.boolean().optional(), next_after: z.string().nullish() });
}

export interface ListOptions {
  query?: Record<string, string | undefined>;
  /** Stop once this many items are in (`rbee jobs ls --limit`); default: all of them. */
  max?: number;
}

export async function listAll<T extends z.ZodType>(api: QueenApi, item: T, path: string, options: ListOptions = {}): Promise<Array<z.infer<T>>> {
  const items: Array<z.infer<T>> = [];
  const seenCursors = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const page = await api.call(pageOf(item), "GET", path, { query: { ...options.query, ...(after === undefined ? {} : { after }) } });
    items.push(...page.data);
    if (options.max !== undefined && items.length >= options.max) return items.slice(0, options.max);
    if (page.has_more !== true) return items;
    // A cursor that is missing or comes round again would page forever: say so instead.
    const next = page.next_after ?? undefined;
    if (next === undefined || seenCursors.has(next)) {
      throw new CliError(EXIT.failed, "unexpected_answer", `the queen's answer to GET ${path} says more follows but gives no new next_after (${String(next)}): is the queen the same version?`);
    }
    seenCursors.add(next);
    after = next;
  }
}
