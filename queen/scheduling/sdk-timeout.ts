// How long a client waits for a whole answer, where its SDK says. The OpenAI and Anthropic SDKs
// send their request timeout with every request: the Node ones as `X-Stainless-Timeout` (whole
// seconds, rounded down), the Python ones as `X-Stainless-Read-Timeout` (seconds; the longest wait
// for a byte, and a non-streamed answer's first byte comes when it is whole). A non-streamed
// answer goes out in one piece at its end, and workerd tells a Worker that its client left only
// once the answer has begun: without this, a client that timed out left its generation running on
// a worker's slot to the end, and its SDK's retries (two by default) queued two more behind it.
// The inference route makes such a request's deadline the client's own, a moment later, so that a
// generation nobody waits for any more is stopped when its client has stopped waiting. Later, not
// at once: a deadline equal to the client's raced it, and a third of the Python client's timeouts
// came back as the queen's 504 (with Retry-After: 5, which the SDK then waited out) instead of
// its own timeout error.

const NODE_SDK_HEADER = "x-stainless-timeout";
const PYTHON_SDK_HEADER = "x-stainless-read-timeout";
/** How long past a Python client's read timeout the queen gives up on it, ms. */
const PYTHON_GRACE_MS = 500;

/** How long the queen waits for a client whose SDK declares its timeout, in ms; undefined when it declares none (or nothing readable). */
export function sdkTimeoutMs(headers: Headers): number | undefined {
  const whole = secondsOf(headers.get(NODE_SDK_HEADER));
  // Rounded down by the SDK: its client gives up before the next whole second.
  if (whole !== undefined) return (Math.floor(whole) + 1) * 1000;
  const read = secondsOf(headers.get(PYTHON_SDK_HEADER));
  return read === undefined || read === 0 ? undefined : read * 1000 + PYTHON_GRACE_MS;
}

function secondsOf(value: string | null): number | undefined {
  if (value === null || !/^\d{1,9}(\.\d{1,9})?$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
