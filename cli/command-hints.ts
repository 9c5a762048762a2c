// The rbee command for an API call that a queen's message suggests: the queen speaks to every
// client in API terms ("register it with POST /v1/hives"), and someone at the `rbee` CLI should
// also be told what to type here. Used by queen-api.ts on the queen's refusals.

interface CommandHint {
  /** The API call as the queen's messages write it. */
  call: RegExp;
  /** The command, given the message's match of `call` and the whole message. */
  command: (match: RegExpExecArray, message: string) => string;
}

const HINTS: readonly CommandHint[] = [
  // "No hive named 'gpu-box'; register it with POST /v1/hives."
  { call: /POST \/v1\/hives\b/, command: (_, message) => `rbee hives add ${/hive named '([^']+)'/.exec(message)?.[1] ?? "<name>"}` },
  // "No live worker 'wrk_…'; GET /v1/workers lists them."
  { call: /GET \/v1\/workers\b/, command: () => "rbee workers ls" },
  // "model 'm' is loaded by worker wrk_… (pid 42); stop the worker first (DELETE /v1/workers/wrk_…)"
  { call: /DELETE \/v1\/workers\/(wrk_[a-z0-9]+)/, command: (match) => `rbee workers stop ${match[1] ?? "<id>"}` },
  // "No alias 'chat'; PUT /v1/models/chat/alias {"model": "…"} creates it."
  { call: /PUT \/v1\/models\/([^/\s]+)\/alias\b/, command: (match) => `rbee models alias ${match[1] ?? "<alias>"} <model>` },
];

/** `message`, with the rbee command for the first API call it suggests that rbee has one for. */
export function withCommandHint(message: string): string {
  for (const hint of HINTS) {
    const match = hint.call.exec(message);
    if (match) return `${message} With rbee: ${hint.command(match, message)}`;
  }
  return message;
}
