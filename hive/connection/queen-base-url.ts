// The queen's base URL as the hive needs it. `npm start` prints the queen's OpenAI base URL,
// which ends in /v1, and people paste it as --queen: the hive's socket lives at
// <base>/v1/hive/connect, so a trailing /v1 is dropped (and the hive says so).

export function queenBaseUrl(queenUrl: string): { url: string; droppedV1: boolean } {
  const url = new URL(queenUrl);
  const path = url.pathname.replace(/\/+$/, "");
  if (!/\/v1$/.test(path)) return { url: queenUrl, droppedV1: false };
  url.pathname = path.slice(0, -"/v1".length) || "/";
  return { url: url.toString().replace(/\/+$/, ""), droppedV1: true };
}
