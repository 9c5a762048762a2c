// @ts-check
// Splits a Server-Sent Events byte stream into events ({event, data}), as EventSource would, for
// the dashboard's fetch-based reader (EventSource cannot send an Authorization header). Comment
// lines (": …", the queen's keep-alives) and ids are skipped.

/** @typedef {{ event: string, data: string }} SseEvent */

export class SseParser {
  constructor() {
    this.decoder = new TextDecoder();
    this.buffer = "";
  }

  /**
   * Feeds a chunk; returns the events it completed.
   * @param {Uint8Array} chunk
   * @returns {SseEvent[]}
   */
  push(chunk) {
    this.buffer += this.decoder.decode(chunk, { stream: true }).replaceAll("\r\n", "\n");
    /** @type {SseEvent[]} */
    const events = [];
    let end = this.buffer.indexOf("\n\n");
    while (end !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event) events.push(event);
      end = this.buffer.indexOf("\n\n");
    }
    return events;
  }
}

/**
 * @param {string} block
 * @returns {SseEvent | undefined}
 */
function parseBlock(block) {
  let event = "message";
  /** @type {string[]} */
  const data = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length > 0 ? { event, data: data.join("\n") } : undefined;
}
