// A hive's HiveSession, by hive name: a reconnecting hive always lands in the same object.
export function hiveSessionStub(env: Env, hiveName: string): DurableObjectStub<import("./hive-session.js").HiveSession> {
  return env.HIVE_SESSION.get(env.HIVE_SESSION.idFromName(hiveName));
}
