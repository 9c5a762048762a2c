// The error code a job ends with when its hive no longer runs it: the hive was away too long,
// restarted, or never got it. It says nothing against the job or the hive: submitted again, the
// job may well succeed (the spawner, for one, counts it as no failure of the hive).
export const JOB_LOST = "job_lost";
