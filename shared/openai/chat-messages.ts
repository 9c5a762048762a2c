// The messages of an OpenAI chat request, as rbee accepts them: system/developer, user,
// assistant (text, tool calls or both) and tool results. Content is text, as a string or as text
// parts (an assistant's refusal parts too); image, audio and file parts are refused with a 400 naming them, as rbee's models read
// text only. The chat request schema and the worker's chat history build on this.
import { z } from "zod";
import { refused } from "./refused-fields.js";
import { ChatToolCall } from "./chat-tools.js";

/**
 * A content part. Any `type` passes here so that the message-level check below can name the
 * exact part refused (a zod union would only say "invalid input" for the whole content).
 */
const ContentPart = z.looseObject({ type: z.string(), text: z.string().optional(), refusal: z.string().optional() });
export type ContentPart = z.infer<typeof ContentPart>;

const Content = z.union([z.string(), z.array(ContentPart)]);

/** `name` tells participants apart for OpenAI's models; chat templates have no place for it, so it is not shown to the model. */
const Name = { name: z.string().nullish() };

export const SystemMessage = z.object({ role: z.enum(["system", "developer"]), content: Content, ...Name });
export const UserMessage = z.object({ role: z.literal("user"), content: Content, ...Name });
export const AssistantMessage = z.object({
  role: z.literal("assistant"),
  /** May be null (or absent) when the message only calls tools. */
  content: z.union([Content, z.null()]).optional(),
  tool_calls: z.array(ChatToolCall).nullish(),
  refusal: z.string().nullish(),
  audio: refused("audio output is not supported"),
  function_call: refused("the deprecated function_call; send tool_calls"),
  ...Name,
});
export const ToolMessage = z.object({ role: z.literal("tool"), content: Content, tool_call_id: z.string().min(1) });

export const ChatMessage = z
  .discriminatedUnion("role", [SystemMessage, UserMessage, AssistantMessage, ToolMessage])
  .superRefine((message, ctx) => {
    if (!Array.isArray(message.content)) return;
    for (const [index, part] of message.content.entries()) {
      if (part.type === "text" && typeof part.text === "string") continue;
      // An assistant's earlier refusal, sent back as the conversation goes on: text the model wrote.
      if (part.type === "refusal" && message.role === "assistant" && typeof part.refusal === "string") continue;
      const reason =
        part.type === "text"
          ? "a text part needs its text"
          : `${JSON.stringify(part.type)} content parts are not supported: rbee's models read text only (no image, audio or file input)`;
      ctx.addIssue({ code: "custom", path: ["content", index, part.type === "text" ? "text" : "type"], message: reason });
    }
  });
export type ChatMessage = z.infer<typeof ChatMessage>;
export type AssistantMessage = z.infer<typeof AssistantMessage>;
export type ToolMessage = z.infer<typeof ToolMessage>;

/** The text of a message, whether sent as a string or as an array of text parts. */
export function messageText(message: Pick<ChatMessage, "content">): string {
  const { content } = message;
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content.map((part) => part.text ?? part.refusal ?? "").join("");
}
