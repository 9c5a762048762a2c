// The daily retention run (the queen's scheduled handler): what outlived its retention goes,
// what is recent, unfinished or still in use stays, and a GET of a pruned job says 404; an
// unfinished job is made sure to end one day.
import { createScheduledController, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../../queen/config.js";
import queen from "../../queen/index.js";
import type { JobSession } from "../../queen/jobs/job-session.js";
import { getJob } from "./job-client.js";

const DAY_MS = 24 * 60 * 60 * 1000;

function jobSession(jobId: string) {
  return env.JOB_SESSION.get(env.JOB_SESSION.idFromName(jobId));
}

async function runRetention(nowMs: number): Promise<void> {
  await queen.scheduled(createScheduledController({ scheduledTime: nowMs, cron: "17 3 * * *" }), env);
}

function insertJob(id: string, status: string, endedAt: number | null, createdAt: number): Promise<unknown> {
  return env.DB.prepare("INSERT INTO jobs (id, operation, hive_name, params, status, created_at, ended_at) VALUES (?, 'hive_check', 'retention-hive', '{}', ?, ?, ?)")
    .bind(id, status, createdAt, endedAt)
    .run();
}

async function ids(query: string, ...params: unknown[]): Promise<string[]> {
  const { results } = await env.DB.prepare(query).bind(...params).all<{ id: string }>();
  return results.map((row) => row.id).sort();
}

describe("retention", () => {
  it("deletes finished jobs, stopped workers, unused models and usage past their retention, and keeps the rest", async () => {
    const now = Date.UTC(2030, 5, 15, 3, 17);
    const old = (days: number) => now - (days + 1) * DAY_MS;
    const recent = (days: number) => now - (days - 1) * DAY_MS;
    const jobDays = DEFAULTS.jobRetentionDays;
    await insertJob("job_retold1", "done", old(jobDays), old(jobDays + 1));
    await insertJob("job_retold2", "error", old(jobDays), old(jobDays + 1));
    await insertJob("job_retnew1", "done", recent(jobDays), old(jobDays + 1));
    // Unfinished jobs are never pruned, however old: their JobSession's idle check ends them first.
    await insertJob("job_retrun1", "running", null, old(jobDays + 100));
    await jobSession("job_retrun1").open({ jobId: "job_retrun1", hiveName: "retention-hive", operation: "hive_check" });

    const workerDays = DEFAULTS.workerHistoryRetentionDays;
    const insertWorker = (id: string, model: string, stoppedAt: number | null) =>
      env.DB.prepare("INSERT INTO worker_history (id, hive_name, model, spawned_at, stopped_at, stop_reason) VALUES (?, 'retention-hive', ?, ?, ?, ?)")
        .bind(id, model, old(workerDays + 400), stoppedAt, stoppedAt === null ? null : "deleted")
        .run();
    await insertWorker("wrk_retold1", "gone-model", old(workerDays));
    await insertWorker("wrk_retnew1", "gone-model", recent(workerDays));
    await insertWorker("wrk_retlive1", "served-model", null);

    const modelDays = DEFAULTS.hiveModelRetentionDays;
    const insertModel = (model: string, lastSeenAt: number) =>
      env.DB.prepare("INSERT INTO hive_models (hive_name, model, first_seen_at, last_seen_at) VALUES ('retention-hive', ?, ?, ?)").bind(model, lastSeenAt, lastSeenAt).run();
    await insertModel("gone-model", old(modelDays));
    await insertModel("served-model", old(modelDays));
    await insertModel("fresh-model", recent(modelDays));

    const usageDays = DEFAULTS.usageRetentionDays;
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const insertUsage = (keyId: string, ms: number) =>
      env.DB.prepare("INSERT INTO usage_daily (key_id, day, requests) VALUES (?, ?, 1)").bind(keyId, day(ms)).run();
    await insertUsage("key_retold1", old(usageDays));
    await insertUsage("key_retnew1", recent(usageDays));

    await runRetention(now);

    expect(await ids("SELECT id FROM jobs WHERE id LIKE 'job_ret%'")).toEqual(["job_retnew1", "job_retrun1"]);
    expect(await ids("SELECT id FROM worker_history WHERE id LIKE 'wrk_ret%'")).toEqual(["wrk_retlive1", "wrk_retnew1"]);
    expect(await ids("SELECT model AS id FROM hive_models WHERE hive_name = 'retention-hive'")).toEqual(["fresh-model", "served-model"]);
    expect(await ids("SELECT key_id AS id FROM usage_daily WHERE key_id LIKE 'key_ret%'")).toEqual(["key_retnew1"]);
    expect((await getJob("job_retold1")).status).toBe(404);
    expect(await env.DB.prepare("SELECT status FROM jobs WHERE id = 'job_retrun1'").first()).toEqual({ status: "running" });

    // A second run finds nothing more to delete.
    await runRetention(now);
    expect(await ids("SELECT id FROM jobs WHERE id LIKE 'job_ret%'")).toEqual(["job_retnew1", "job_retrun1"]);
  });

  it("arms the expiry of an unfinished job's JobSession that has none, and ends a job no JobSession knows as job_lost", async () => {
    const now = Date.now() + 2 * DAY_MS;
    await insertJob("job_legacy1", "running", null, Date.now());
    const legacy = jobSession("job_legacy1");
    await legacy.open({ jobId: "job_legacy1", hiveName: "retention-hive", operation: "hive_check" });
    // As a JobSession opened before idle checks existed: no alarm while the job runs.
    await runInDurableObject(legacy, (_instance: JobSession, state) => state.storage.deleteAlarm());
    await insertJob("job_unknown1", "running", null, Date.now());
    await runRetention(now);
    expect(await runInDurableObject(legacy, (_instance: JobSession, state) => state.storage.getAlarm())).toEqual(expect.any(Number));
    expect(await env.DB.prepare("SELECT status FROM jobs WHERE id = 'job_legacy1'").first()).toEqual({ status: "running" });
    expect((await getJob("job_unknown1")).body).toMatchObject({ status: "error", error: expect.stringContaining("job_lost") });
  });

  it("deletes more rows than one batch holds in one run", async () => {
    const now = Date.UTC(2031, 0, 1);
    const endedAt = now - (DEFAULTS.jobRetentionDays + 1) * DAY_MS;
    const statements = Array.from({ length: 2500 }, (_, i) =>
      env.DB.prepare("INSERT INTO jobs (id, operation, hive_name, params, status, created_at, ended_at) VALUES (?, 'hive_check', 'bulk-hive', '{}', 'done', ?, ?)").bind(
        `job_bulk${i}`,
        endedAt,
        endedAt,
      ),
    );
    await env.DB.batch(statements);
    await runRetention(now);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM jobs WHERE hive_name = 'bulk-hive'").first<{ n: number }>()).toEqual({ n: 0 });
  });
});
