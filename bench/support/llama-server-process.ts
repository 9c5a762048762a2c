// Starts llama.cpp's own server (`llama-server`, a binary the user built or installed; rbee ships
// none) on the benchmark's model, as the tool people would otherwise run, so the worker's
// tokens/s can be set against it in one run: same model, same CPU threads, one slot, loopback.
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { findFreeLoopbackPort } from "../../shared/free-port.js";
import { stopChild } from "./stop-child.js";

/** How long llama-server may take to load the model, in ms. */
const START_TIMEOUT_MS = 120_000;
/** How often /health is asked while it loads, in ms (it answers 503 until the model is loaded). */
const HEALTH_POLL_MS = 100;
const STOP_TIMEOUT_MS = 10_000;
/** How much of its log is kept to explain a failed start, in characters. */
const LOG_TAIL_CHARS = 4000;

export interface LlamaServerOptions {
  /** The llama-server binary. */
  binary: string;
  modelPath: string;
  /** CPU threads for generation and for prompt batches (`-t`, `-tb`), as the worker is given. */
  threads: number;
}

export class LlamaServerProcess {
  /** Spawns llama-server on a free loopback port and resolves once its /health answers 200. */
  static async start(options: LlamaServerOptions): Promise<LlamaServerProcess> {
    const port = await findFreeLoopbackPort();
    const threads = String(options.threads);
    // One slot, as the worker's single stream uses one; no web UI to serve.
    const args = ["-m", options.modelPath, "-t", threads, "-tb", threads, "-np", "1", "--host", "127.0.0.1", "--port", String(port), "--no-webui"];
    const child = spawn(options.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    const server = new LlamaServerProcess(child, `http://127.0.0.1:${port}`);
    try {
      await server.waitUntilHealthy();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  private logTail = "";
  private exitedWith: string | undefined;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    /** Base URL of its OpenAI-compatible API. */
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitedWith = signal ?? `code ${code}`;
        resolve();
      });
      // A binary that is not there never exits: it fails to spawn.
      child.once("error", (error) => {
        this.exitedWith = error.message;
        resolve();
      });
    });
    const keep = (data: Buffer) => {
      this.logTail = (this.logTail + data.toString()).slice(-LOG_TAIL_CHARS);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
  }

  /** SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT_MS. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= stopChild(this.child, this.exited, STOP_TIMEOUT_MS);
    return this.stopping;
  }

  private async waitUntilHealthy(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exitedWith !== undefined) throw new Error(`llama-server exited (${this.exitedWith}) before serving${this.log()}`);
      const status = await fetch(`${this.url}/health`).then(
        (response) => response.status,
        () => undefined, // not listening yet
      );
      if (status === 200) return;
      await sleep(HEALTH_POLL_MS);
    }
    throw new Error(`llama-server did not answer /health with 200 within ${START_TIMEOUT_MS} ms${this.log()}`);
  }

  /** The end of its log, to follow an error message; nothing when it wrote none. */
  private log(): string {
    const tail = this.logTail.trim();
    return tail === "" ? "" : `:\n${tail}`;
  }
}
