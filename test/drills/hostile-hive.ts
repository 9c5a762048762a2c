// A hostile hive for the frame fuzz drill: it connects to a real local queen with a valid hive
// token, says hello, then sends whatever it is given. It reconnects when the queen closes its
// socket, and tallies what the queen answered and every close code.
import WebSocket from "ws";
import { hiveConnectUrl } from "../../shared/protocol/hive-connect.js";
import { TEST_DEVICES } from "../support/test-devices.js";
import { type HelloFrame, PROTOCOL_VERSION, QueenToHiveFrame } from "../../shared/protocol/hive-frames.js";

export const FUZZ_HELLO = {
  type: "hello",
  protocol: PROTOCOL_VERSION,
  hive: { version: "fuzz", os: "linux", arch: "x64", cpuCores: 2, memoryBytes: 8 * 2 ** 30 },
  devices: TEST_DEVICES,
  jobs: [],
  workers: [],
} satisfies HelloFrame;

export class HostileHive {
  /** What the queen sent, by `type` (and `code` for errors); `unparsable` for anything off-protocol. */
  readonly answers = new Map<string, number>();
  /** Close codes the queen closed this hive's sockets with, and how often. */
  readonly closeCodes = new Map<number, number>();
  connections = 0;
  private ws: WebSocket | undefined;

  constructor(
    private readonly queenUrl: string,
    private readonly name: string,
    private readonly token: string,
  ) {}

  /** Sends one frame, reconnecting (and saying hello) first when the last socket was closed. */
  async send(data: string | Uint8Array, options: { binary: boolean }): Promise<void> {
    const ws = this.ws?.readyState === WebSocket.OPEN ? this.ws : await this.connect();
    await new Promise<void>((resolve) => ws.send(data, options, () => resolve()));
  }

  /** Waits until the queen has read every frame sent so far: a frame it must refuse, and its answer. */
  async settle(): Promise<void> {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    const ws = this.ws;
    const refusedBefore = this.count("error:invalid_json");
    ws.send("settle?");
    const deadline = Date.now() + 30_000;
    while (this.count("error:invalid_json") === refusedBefore && ws.readyState === WebSocket.OPEN && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.ws?.close(1000, "fuzzing done");
  }

  count(key: string): number {
    return this.answers.get(key) ?? 0;
  }

  private async connect(): Promise<WebSocket> {
    const ws = new WebSocket(hiveConnectUrl(this.queenUrl, this.name), { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    this.connections += 1;
    ws.on("message", (data, isBinary) => this.tally(isBinary ? undefined : data.toString()));
    ws.on("close", (code) => this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1));
    ws.on("error", () => {}); // a close follows, and is what we count
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_request, response) => reject(new Error(`the queen refused the hostile hive's upgrade with ${response.statusCode}`)));
    });
    const welcomed = this.count("welcome");
    ws.send(JSON.stringify(FUZZ_HELLO));
    const deadline = Date.now() + 30_000;
    while (this.count("welcome") === welcomed) {
      if (Date.now() > deadline || ws.readyState !== WebSocket.OPEN) throw new Error("the queen did not welcome the hostile hive");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return ws;
  }

  private tally(text: string | undefined): void {
    let key = "unparsable";
    if (text !== undefined) {
      const parsed = QueenToHiveFrame.safeParse(safeJsonParse(text));
      if (parsed.success) key = parsed.data.type === "error" ? `error:${parsed.data.code}` : parsed.data.type;
    }
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
  }
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
