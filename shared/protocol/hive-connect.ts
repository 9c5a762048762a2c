// Where a hive opens its one WebSocket to the queen: the path the queen routes, and the URL the
// hive builds from the queen's base URL and its own name.

/** The queen's route for hive sockets, below the queen's base URL. */
export const HIVE_CONNECT_PATH = "/v1/hive/connect";

/** The query parameter that names the connecting hive. */
export const HIVE_NAME_PARAM = "name";

/** `http://queen` → `ws://queen/v1/hive/connect?name=…` (https → wss); a base path is kept. */
export function hiveConnectUrl(queenUrl: string, hiveName: string): string {
  const url = new URL(queenUrl);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${HIVE_CONNECT_PATH}`;
  url.searchParams.set(HIVE_NAME_PARAM, hiveName);
  return url.toString();
}
