// Serves the worker's HTTP API (./http-api.ts) on 127.0.0.1 through @hono/node-server, which the
// hive forwards requests to, and drains in-flight requests when the worker shuts down.
import { getRequestListener } from "@hono/node-server";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createWorkerApi, MAX_BODY_BYTES, type WorkerApiOptions } from "./http-api.js";

export type WorkerServerOptions = Omit<WorkerApiOptions, "draining">;

export class WorkerServer {
  private readonly server: Server;
  private inFlight = 0;
  private draining = false;
  private onIdle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: WorkerServerOptions) {
    const app = createWorkerApi({ ...options, draining: () => this.draining });
    const serve = getRequestListener(async (request, { incoming, outgoing }) => {
      const response = await app.fetch(request, { incoming, outgoing });
      // A body left unread (413, or an early 404/405) would otherwise be read to its end just to
      // keep the socket; the response is not written yet, so the header still goes out with it.
      if (!incoming.complete) outgoing.setHeader("connection", "close");
      return response;
    });
    const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
      this.track(response);
      void serve(request, response);
    };
    this.server = createServer(onRequest);
    // Clients such as curl ask before uploading a large body ("Expect: 100-continue"); Node would
    // say yes to everything, so a body declared too large is refused before a byte of it is sent.
    this.server.on("checkContinue", (request: IncomingMessage, response: ServerResponse) => {
      if (Number(request.headers["content-length"] ?? 0) <= MAX_BODY_BYTES) response.writeContinue();
      onRequest(request, response);
    });
  }

  /** Listens on 127.0.0.1 only, on the port the options name: the hive is the one client. */
  listen(): Promise<void> {
    const { port } = this.options;
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts the rest. Safe to call twice. */
  close(graceMs: number): Promise<void> {
    this.closing ??= this.drain(graceMs);
    return this.closing;
  }

  private async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        new Promise<boolean>((resolve) => (this.onIdle = () => resolve(true))),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!finished) this.options.log(`${this.inFlight} request(s) still running after ${graceMs} ms; cutting them off`);
    }
    // Closing the sockets of unfinished responses aborts their generations through their requests' signals.
    this.server.closeAllConnections();
    await closed;
  }

  /** Counts the request until its response closes, finished or cut. */
  private track(response: ServerResponse): void {
    this.inFlight++;
    response.once("close", () => {
      this.inFlight--;
      if (this.inFlight === 0 && this.onIdle) this.onIdle();
    });
    // Sockets kept alive would hold the server open after the last response; headers set here
    // are merged into those the app's response brings.
    if (this.draining) response.setHeader("connection", "close");
  }
}
