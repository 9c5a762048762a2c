// Collects the function calls of one generation as OpenAI tool calls: gives each an id
// (`call_…`), passes its parameters text on as `delta.tool_calls` pieces while it is generated
// (first piece: index, id, type and name; then arguments text), and at the end returns the
// calls for `message.tool_calls`. Streamed and whole answers share the same arguments text.
import { randomBytes } from "node:crypto";
import type { LlamaChatResponseFunctionCallParamsChunk } from "node-llama-cpp";
import type { ChatToolCall } from "../shared/openai/chat-tools.js";
import { TOOL_CALL_ID_PREFIX } from "../shared/openai/chat-tools.js";
import type { ChatToolCallDelta } from "../shared/openai/chat-response.js";

interface CallInProgress {
  id: string;
  name: string;
  /** The arguments text passed on so far. */
  arguments: string;
  /**
   * Whitespace held back: node-llama-cpp's parameter chunks end with the newlines the grammar
   * allows after the JSON, which belong to no argument; they go out only if more text follows.
   */
  heldWhitespace: string;
}

export class ToolCallStream {
  private readonly calls = new Map<number, CallInProgress>();

  /** `onDelta` gets each piece as it is generated; undefined when nobody streams. */
  constructor(private readonly onDelta: ((delta: ChatToolCallDelta) => void) | undefined) {}

  /** node-llama-cpp's `onFunctionCallParamsChunk`. */
  readonly onParamsChunk = (chunk: LlamaChatResponseFunctionCallParamsChunk): void => {
    const call = this.open(chunk.callIndex, chunk.functionName);
    const text = call.heldWhitespace + chunk.paramsChunk;
    const kept = text.trimEnd();
    call.heldWhitespace = text.slice(kept.length);
    if (kept === "") return;
    call.arguments += kept;
    this.onDelta?.({ index: chunk.callIndex, function: { arguments: kept } });
  };

  /**
   * The calls for `message.tool_calls`: the finished ones, from node-llama-cpp's `functionCalls`,
   * then any cut short (by max_tokens) with the arguments text generated so far, as a stream's
   * client has them and as OpenAI returns a call cut by length. A finished call whose parameters
   * came in no chunk (a function without parameters) gets `{}`, streamed whole. `cutInName`: the
   * generation was cut before any call's name was whole, and the call could only be of that function
   * (node-llama-cpp names a call only once its name is whole): it is returned with no arguments yet.
   */
  finish(functionCalls: ReadonlyArray<{ functionName: string; params: unknown }>, cutInName?: string): ChatToolCall[] {
    if (cutInName !== undefined && functionCalls.length === 0 && this.calls.size === 0) this.open(0, cutInName);
    const finished = functionCalls.map((functionCall, index) => {
      const call = this.open(index, functionCall.functionName);
      if (call.arguments === "") {
        call.arguments = JSON.stringify(functionCall.params ?? {});
        this.onDelta?.({ index, function: { arguments: call.arguments } });
      }
      return call;
    });
    const cut = [...this.calls].filter(([index]) => index >= functionCalls.length).sort(([a], [b]) => a - b).map(([, call]) => call);
    return [...finished, ...cut].map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } }));
  }

  private open(index: number, name: string): CallInProgress {
    let call = this.calls.get(index);
    if (call === undefined) {
      call = { id: `${TOOL_CALL_ID_PREFIX}${randomBytes(12).toString("hex")}`, name, arguments: "", heldWhitespace: "" };
      this.calls.set(index, call);
      this.onDelta?.({ index, id: call.id, type: "function", function: { name, arguments: "" } });
    }
    return call;
  }
}
