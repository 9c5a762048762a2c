// The one Registry instance, by name, for route handlers and HiveSessions.
export const REGISTRY_NAME = "registry";

export function registryStub(env: Env): DurableObjectStub<import("./registry.js").Registry> {
  return env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_NAME));
}
