// A job's JobSession, by job id: every watcher and every event of one job meet in one object.
export function jobSessionStub(env: Env, jobId: string): DurableObjectStub<import("./job-session.js").JobSession> {
  return env.JOB_SESSION.get(env.JOB_SESSION.idFromName(jobId));
}
