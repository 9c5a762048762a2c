// Where a hive opens its one WebSocket to the queen: the path the queen routes, and the URL the
// hive builds from the queen's base URL and its own name.

/** The queen's route for hive sockets, below the queen's base URL. */
export const HIVE_CONNECT_PATH = "/v1/hive/connect";

/** The query parameter that names the connecting hive. */
export const HIVE_NAME_PARAM = "name";

/**
 * The header that tells one rbee-hive process from another of the same name: a random id the
 * process picks at start and sends with every connection it opens. The queen lets a connection of
 * the same process replace its last one (a network blip left that one half-open), but refuses one
 * of another process while the first is alive: two machines sharing a name would otherwise replace
 * each other for ever, and each one's hello would drop the other's workers.
 */
export const HIVE_INSTANCE_HEADER = "x-rbee-hive-instance";

/** What a hive instance id looks like (a UUID, or any such token). */
export const HIVE_INSTANCE_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/** `http://queen` → `ws://queen/v1/hive/connect?name=…` (https → wss); a base path is kept. */
export function hiveConnectUrl(queenUrl: string, hiveName: string): string {
  const url = new URL(queenUrl);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${HIVE_CONNECT_PATH}`;
  url.searchParams.set(HIVE_NAME_PARAM, hiveName);
  return url.toString();
}
