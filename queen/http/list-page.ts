// Pages of the admin lists (GET /v1/keys, /v1/usage, /v1/jobs): at most `limit` rows per answer,
// and for keyset-paged lists the `after` cursor that fetches the next page. A route asks its
// table for one row more than the limit; that row only says whether there is more.
import { z } from "zod";

/** The `limit` query parameter: 1 to `max` rows, `fallback` when absent. */
export function pageLimit(fallback: number, max: number) {
  const range = `must be 1–${max}`;
  return z.coerce.number({ error: range }).int(range).min(1, range).max(max, range).default(fallback);
}

export interface ListPage<View> {
  object: "list";
  data: View[];
  /** Whether rows follow this page. */
  has_more: boolean;
  /** Pass as `after` to get the next page; null on the last one. */
  next_after: string | null;
}

/** The answer for `rows` fetched with `limit + 1`: the first `limit`, and the cursor after the last. */
export function listPage<Row, View>(rows: Row[], limit: number, view: (row: Row) => View, cursorOf: (row: Row) => string): ListPage<View> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const hasMore = rows.length > limit && last !== undefined;
  return { object: "list", data: page.map(view), has_more: hasMore, next_after: hasMore ? cursorOf(last) : null };
}
