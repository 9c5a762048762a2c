// A Responses request is served as a chat completion (to-chat.ts), so an error found in the chat
// request, by the queen or by the worker (a context overflow, max_tokens past the context, a
// response_format the grammar cannot enforce), names a chat field in its `param`. A Responses
// client sent none of those: responsesParam names the Responses field it came from (applied to
// every error of POST /v1/responses by ./error-params.ts). No Responses field has a chat field's
// name, so a param that already names the Responses request passes unchanged.

/** Chat request paths and the Responses paths they were made from, applied in turn. */
const RENAMES: ReadonlyArray<[RegExp, string]> = [
  // Messages are the instructions, the stored conversation and the input items in one list:
  // their indexes do not match the input's.
  [/^messages(?:[[.].*)?$/, "input"],
  [/^max_(?:completion_)?tokens$/, "max_output_tokens"],
  [/^response_format(?=\.|$)/, "text.format"],
  [/^text\.format\.json_schema(?=\.|$)/, "text.format"],
  [/^(tools\[\d+\])\.function(?=\.|$)/, "$1"],
  [/^tool_choice\.function(?=\.|$)/, "tool_choice"],
];

/** The Responses field a chat request's `param` came from. */
export function responsesParam(chatParam: string): string {
  return RENAMES.reduce((param, [pattern, replacement]) => param.replace(pattern, replacement), chatParam);
}
