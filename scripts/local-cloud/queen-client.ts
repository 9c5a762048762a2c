// A small typed client for the queen's admin routes that `npm start` and the tests use.
import { waitUntil } from "../../shared/wait-until.js";

export class QueenClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  async createHive(name: string): Promise<{ name: string; token: string }> {
    return (await this.call("POST", "/v1/hives", { name })) as { name: string; token: string };
  }

  async spawnWorker(request: { hive: string; model: string; source: string }): Promise<{ id: string; pid: number; port: number }> {
    return (await this.call("POST", "/v1/workers", request)) as { id: string; pid: number; port: number };
  }

  /** The models a worker serves now (state `loaded`); /v1/models also lists those hives could load. */
  async listModels(): Promise<string[]> {
    const list = (await this.call("GET", "/v1/models")) as { data: { id: string; state?: string }[] };
    return list.data.filter((model) => model.state === undefined || model.state === "loaded").map((model) => model.id);
  }

  /** How many workers the model's policy keeps running (min_workers): 0 without a policy. */
  async minWorkersOf(model: string): Promise<number> {
    const response = await fetch(`${this.baseUrl}/v1/models/${encodeURIComponent(model)}/policy`, { headers: { authorization: `Bearer ${this.apiKey}` } });
    if (response.status === 404) return 0;
    if (!response.ok) throw new Error(`GET /v1/models/${model}/policy failed with ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { min_workers: number }).min_workers;
  }

  async listWorkers(): Promise<{ id: string; model: string; state: string }[]> {
    return ((await this.call("GET", "/v1/workers")) as { data: { id: string; model: string; state: string }[] }).data;
  }

  /** A worker of `model` that is up or on its way (not stopped or failed), polling /v1/workers for up to `timeoutMs`; undefined when none came. */
  async findWorkerOf(model: string, timeoutMs: number): Promise<string | undefined> {
    let found: string | undefined;
    const listed = async () => {
      found = (await this.listWorkers()).find((worker) => worker.model === model && worker.state !== "stopped" && worker.state !== "failed")?.id;
      return found !== undefined;
    };
    // Twice a second: a poll is a request, counted against the key's and the address's rate limits.
    await waitUntil(listed, timeoutMs, `a worker of '${model}'`, 500).catch(() => {});
    return found;
  }

  /** Polls /v1/workers until worker `id` heartbeated `ready`. */
  async waitForWorkerReady(id: string, timeoutMs: number): Promise<void> {
    await waitUntil(async () => (await this.listWorkers()).some((worker) => worker.id === id && worker.state === "ready"), timeoutMs, `worker ${id} to be ready`);
  }

  /**
   * Which of `workerIds` (workers a previous hive left running, re-attaching to the new one)
   * serves `model`: polls /v1/workers until one of them is listed for it, every one is listed for
   * other models, or `timeoutMs` passes (a worker silent that long is gone). Undefined when none does.
   */
  async findReturningWorker(workerIds: readonly string[], model: string, timeoutMs: number): Promise<string | undefined> {
    let found: string | undefined;
    const returned = async () => {
      const listed = (await this.listWorkers()).filter((worker) => workerIds.includes(worker.id));
      found = listed.find((worker) => worker.model === model)?.id;
      return found !== undefined || listed.length === workerIds.length;
    };
    if (workerIds.length > 0) await waitUntil(returned, timeoutMs, "a worker of the previous hive to re-attach").catch(() => {});
    return found;
  }

  /** Polls /v1/models until `model` is listed (a worker for it heartbeated `ready`). */
  async waitForModel(model: string, timeoutMs: number): Promise<void> {
    await waitUntil(async () => (await this.listModels()).includes(model), timeoutMs, `model '${model}' to be listed`);
  }

  /**
   * Runs a job and waits for its end, however long it takes (a download of many GB), reading its
   * event stream; resolves with the terminal event, e.g. `{type: "error", code, message}`.
   */
  async runJob(operation: Record<string, unknown>): Promise<{ type: string; code?: string; message?: string }> {
    const { stream_url: streamPath } = (await this.call("POST", "/v1/jobs", operation)) as { stream_url: string };
    const streamUrl = new URL(streamPath, this.baseUrl); // a path, resolved against the queen we called
    const response = await fetch(streamUrl, { headers: { authorization: `Bearer ${this.apiKey}` } });
    if (!response.ok || !response.body) throw new Error(`GET ${streamUrl} failed with ${response.status}`);
    let last: { type: string; code?: string; message?: string } = { type: "error", code: "stream_ended", message: "the job's stream ended without an end event" };
    let buffered = "";
    for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const messages = buffered.split("\n\n");
      buffered = messages.pop() ?? "";
      for (const message of messages) {
        const data = message.split("\n").find((line) => line.startsWith("data: "));
        if (data) last = JSON.parse(data.slice("data: ".length)) as typeof last;
      }
    }
    return last;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json: unknown = await response.json();
    if (!response.ok) {
      const message = (json as { error?: { message?: string } }).error?.message ?? response.statusText;
      throw new Error(`${method} ${path} failed with ${response.status}: ${message}`);
    }
    return json;
  }
}

