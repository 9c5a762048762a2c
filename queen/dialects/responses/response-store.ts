// ResponseStore implements a Durable Object per API key, named after the key's id, that keeps the
// responses made with that key (the response object, and the conversation up to it as input
// items) so that a later request's previous_response_id continues it on any worker, and GET and
// DELETE /v1/responses/:id read and remove it. One object per key makes "another key gets 404"
// hold by construction, keeps D1 off the request path, and spreads the storage over many objects;
// an alarm deletes each response when its time is up, and the oldest go first when a key passes
// its count or byte cap.
import { DurableObject } from "cloudflare:workers";

export const RESPONSE_STORE_LIMITS = {
  /** How long a response is kept, ms: 30 days, as OpenAI keeps them. */
  ttlMs: 30 * 24 * 3600 * 1000,
  /** Responses kept per key; the oldest go first. */
  maxResponsesPerKey: 1000,
  /** Bytes kept per key (response and conversation JSON together); the oldest go first. */
  maxBytesPerKey: 64 * 1024 * 1024,
  /** Largest single entry: a Durable Object's SQLite takes values up to 2 MB. */
  maxEntryBytes: 1_900_000,
};

/** One stored response, as JSON texts: the RPC boundary and the table hold them as they are. */
export interface StoredResponse {
  /** The response object GET returns. */
  response: string;
  /** The conversation up to and including this response's output, as Responses input items. */
  items: string;
}

export class ResponseStore extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS responses (id TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, response TEXT NOT NULL, items TEXT NOT NULL)",
    );
  }

  /** Keeps `stored` under `id`; false when it is too big to keep. */
  async put(id: string, stored: StoredResponse): Promise<boolean> {
    const bytes = stored.response.length + stored.items.length;
    if (bytes > RESPONSE_STORE_LIMITS.maxEntryBytes) return false;
    const nowMs = Date.now();
    const expiresAtMs = nowMs + RESPONSE_STORE_LIMITS.ttlMs;
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)", id, nowMs, expiresAtMs, bytes, stored.response, stored.items);
    sql.exec("DELETE FROM responses WHERE id IN (SELECT id FROM responses ORDER BY created_at_ms DESC LIMIT -1 OFFSET ?)", RESPONSE_STORE_LIMITS.maxResponsesPerKey);
    for (;;) {
      const total = sql.exec<{ total: number | null }>("SELECT SUM(bytes) AS total FROM responses").one().total ?? 0;
      if (total <= RESPONSE_STORE_LIMITS.maxBytesPerKey) break;
      sql.exec("DELETE FROM responses WHERE id = (SELECT id FROM responses ORDER BY created_at_ms LIMIT 1)");
    }
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > expiresAtMs) await this.ctx.storage.setAlarm(expiresAtMs);
    return true;
  }

  /** The response under `id`, unless it is unknown or its time is up. */
  async get(id: string): Promise<StoredResponse | null> {
    const rows = this.ctx.storage.sql
      .exec<{ response: string; items: string }>("SELECT response, items FROM responses WHERE id = ? AND expires_at_ms > ?", id, Date.now())
      .toArray();
    const row = rows[0];
    return row === undefined ? null : { response: row.response, items: row.items };
  }

  /** Deletes the response under `id`; false when there was none. */
  async remove(id: string): Promise<boolean> {
    const found = (await this.get(id)) !== null;
    this.ctx.storage.sql.exec("DELETE FROM responses WHERE id = ?", id);
    return found;
  }

  override async alarm(): Promise<void> {
    await this.expire(Date.now());
  }

  /** Deletes what is past its time and sets the alarm for the next to go. */
  private async expire(nowMs: number): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM responses WHERE expires_at_ms <= ?", nowMs);
    const next = sql.exec<{ next: number | null }>("SELECT MIN(expires_at_ms) AS next FROM responses").one().next;
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }
}

/** The store of one API key's responses. */
export function responseStoreStub(env: Env, keyId: string): DurableObjectStub<ResponseStore> {
  return env.RESPONSE_STORE.get(env.RESPONSE_STORE.idFromName(keyId));
}
