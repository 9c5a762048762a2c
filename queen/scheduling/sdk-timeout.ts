// How long a client waits for a whole answer, where its SDK says. The OpenAI and Anthropic SDKs
// send their request timeout with every request: the Node ones as `X-Stainless-Timeout` (whole
// seconds, rounded down), the Python ones as `X-Stainless-Read-Timeout` (seconds; the longest wait
// for a byte, and a non-streamed answer's first byte comes when it is whole). A non-streamed
// answer goes out in one piece at its end, and workerd tells a Worker that its client left only
// once the answer has begun: without this, a client that timed out left its generation running on
// a worker's slot to the end, and its SDK's retries (two by default) queued two more behind it.
// The inference route makes such a request's deadline the client's own, so that a generation
// nobody waits for any more is stopped when its client stops waiting.

const NODE_SDK_HEADER = "x-stainless-timeout";
const PYTHON_SDK_HEADER = "x-stainless-read-timeout";

/** The wait the client's SDK declares, in ms; undefined when it declares none (or nothing readable). */
export function sdkTimeoutMs(headers: Headers): number | undefined {
  const whole = secondsOf(headers.get(NODE_SDK_HEADER));
  // Rounded down: "0" is a timeout under a second, which a second covers.
  if (whole !== undefined) return Math.max(1, Math.floor(whole)) * 1000;
  const read = secondsOf(headers.get(PYTHON_SDK_HEADER));
  return read === undefined || read === 0 ? undefined : read * 1000;
}

function secondsOf(value: string | null): number | undefined {
  if (value === null || !/^\d{1,9}(\.\d{1,9})?$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
