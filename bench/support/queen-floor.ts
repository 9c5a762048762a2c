// The floor under the queen's relay path: a Worker of the queen's shape and nothing else, on the
// same workerd and Miniflare as the local queen. A client's POST takes a "lease" from one Durable
// Object (an RPC), asks a second, which holds a hive's hibernatable WebSocket, to relay the request
// (an RPC), gets the answer's body back as a stream over that RPC, and gives the lease back (an RPC
// under waitUntil); a Node WebSocket client plays the hive and answers at once
// (./canned-answers.ts). No authentication, validation, limits, scheduling, failover, metering or
// logs: what is left is what the platform charges for the hops, which the real queen cannot go
// below (bench/queen-path.ts).
import { Miniflare } from "miniflare";
import WebSocket from "ws";
import { type AnswerPart, type AnswerTiming, playAnswer } from "./canned-answers.js";
import { newChildPidsMatching } from "./process-cpu.js";

const FLOOR_WORKER = `
import { DurableObject } from "cloudflare:workers";
const encoder = new TextEncoder();

export class Lease extends DurableObject {
  held = 0;
  async acquire() { this.held += 1; return "lease-" + this.held; }
  async release() { this.held -= 1; }
}

export class Session extends DurableObject {
  pending = new Map();
  async fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  async relay(id, body) {
    const [ws] = this.ctx.getWebSockets();
    let controller;
    const stream = new ReadableStream({ start(c) { controller = c; } });
    const head = new Promise((resolve) => this.pending.set(id, { controller, resolve }));
    ws.send(JSON.stringify({ id, body }));
    const { status, contentType } = await head;
    return { status, contentType, body: stream };
  }
  async webSocketMessage(ws, message) {
    const { id, parts } = JSON.parse(message);
    const relay = this.pending.get(id);
    for (const part of parts) {
      if (part.head) relay.resolve(part.head);
      else if (part.chunk !== undefined) relay.controller.enqueue(encoder.encode(part.chunk));
      else { relay.controller.close(); this.pending.delete(id); }
    }
  }
}

export default {
  async fetch(request, env, ctx) {
    const session = env.SESSION.get(env.SESSION.idFromName("hive"));
    if (new URL(request.url).pathname === "/connect") return session.fetch(request);
    const body = await request.text();
    const leases = env.LEASE.get(env.LEASE.idFromName("registry"));
    const lease = await leases.acquire();
    const answer = await session.relay(crypto.randomUUID(), body);
    ctx.waitUntil(leases.release(lease));
    return new Response(answer.body, { status: answer.status, headers: { "content-type": answer.contentType } });
  },
};`;

export interface QueenFloor {
  /** Base URL; POST any path with a chat request's body. */
  url: string;
  /** The workerd processes that run it, for CPU accounting. */
  pids: number[];
  stop(): Promise<void>;
}

/** Starts the floor Worker and its hive, whose answers come as `timing` says. */
export async function startQueenFloor(options: { compatibilityDate: string; compatibilityFlags: string[]; timing: AnswerTiming }): Promise<QueenFloor> {
  const startedWorkerd = newChildPidsMatching("workerd");
  const miniflare = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    workers: [
      {
        name: "queen-floor",
        modules: true,
        script: FLOOR_WORKER,
        compatibilityDate: options.compatibilityDate,
        compatibilityFlags: options.compatibilityFlags,
        durableObjects: { LEASE: "Lease", SESSION: "Session" },
        // As the local queen's port: a direct socket, not Miniflare's entry Worker.
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
    ],
  });
  const timers = new Set<NodeJS.Timeout>();
  let hive: WebSocket | undefined;
  try {
    await miniflare.ready;
    const url = (await miniflare.unsafeGetDirectURL("queen-floor")).origin;
    hive = new WebSocket(`${url.replace(/^http/, "ws")}/connect`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      hive?.once("open", resolve);
      hive?.once("error", reject);
    });
    const socket = hive;
    socket.on("message", (data) => {
      const { id, body } = JSON.parse(String(data)) as { id: string; body: string };
      const later = (step: () => void, ms: number) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          step();
        }, ms);
        timers.add(timer);
      };
      playAnswer(body, (parts: AnswerPart[]) => socket.send(JSON.stringify({ id, parts })), options.timing, later);
    });
    const pids = startedWorkerd();
    return {
      url,
      pids,
      async stop() {
        for (const timer of timers) clearTimeout(timer);
        socket.close();
        await miniflare.dispose();
      },
    };
  } catch (error) {
    hive?.close();
    await miniflare.dispose();
    throw error;
  }
}
