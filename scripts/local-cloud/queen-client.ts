// A small typed client for the queen's admin routes that `npm start` and the tests use.
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

  async listModels(): Promise<string[]> {
    const list = (await this.call("GET", "/v1/models")) as { data: { id: string }[] };
    return list.data.map((model) => model.id);
  }

  /** Polls /v1/models until `model` is listed (its worker heartbeated `ready`). */
  async waitForModel(model: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.listModels()).includes(model)) {
      if (Date.now() > deadline) throw new Error(`model '${model}' was not ready within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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
