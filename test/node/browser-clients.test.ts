// The official OpenAI and Anthropic clients running in a real browser page of another origin
// (Debian's chromium), against the real local cloud: what a web app that calls its provider from
// the page does, Open WebUI's direct connections among them. The browser enforces CORS itself:
// without the queen's answers to it, each call fails as a connection error. The page loads the
// clients bundled for browsers by esbuild, as a web app ships them.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/chromium.js";
import { type LocalCloud, startLocalCloud, TINY_MODEL } from "./local-cloud.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PAGE_HTML = `<!doctype html><title>a web app</title><script type="module" src="/clients.js"></script>`;

/** The clients as the page holds them. */
interface PageWindow {
  clients: { OpenAI: typeof import("openai").default; Anthropic: typeof import("@anthropic-ai/sdk").default };
}

/** Both clients in one browser bundle that hands them to the test on `window.clients`. */
async function bundleClients(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `import OpenAI from "openai"; import Anthropic from "@anthropic-ai/sdk"; window.clients = { OpenAI, Anthropic };`,
      resolveDir: REPO_ROOT,
      loader: "js",
    },
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

/** A page's own origin: the page and its bundle. */
async function startPageServer(): Promise<{ server: Server; origin: string }> {
  const bundle = await bundleClients();
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://page").pathname;
    if (path === "/") response.writeHead(200, { "content-type": "text/html" }).end(PAGE_HTML);
    else if (path === "/clients.js") response.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("the official clients in a browser page of another origin", () => {
  let cloud: LocalCloud;
  let pageServer: { server: Server; origin: string };
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    cloud = await startLocalCloud({ heartbeatIntervalMs: 1000, hiveName: "browser-hive" });
    await cloud.client.spawnWorker({ hive: "browser-hive", model: TINY_MODEL, source: cloud.modelSource });
    pageServer = await startPageServer();
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${pageServer.origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as Partial<PageWindow>).clients !== undefined);
    // Another port is another origin: every call below is cross-origin.
    expect(new URL(cloud.queen.url).origin).not.toBe(pageServer.origin);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => pageServer?.server.close(resolve));
    await cloud?.stop();
  });

  it("streams a chat with the OpenAI client, lists the models, and reads a refusal's status and code", { timeout: 60_000 }, async () => {
    const outcome = await page.evaluate(
      async ({ baseURL, apiKey, model }) => {
        const { OpenAI } = (globalThis as unknown as PageWindow).clients;
        const client = new OpenAI({ baseURL, apiKey, dangerouslyAllowBrowser: true, maxRetries: 0 });
        const stream = await client.chat.completions.create({ model, stream: true, max_tokens: 8, messages: [{ role: "user", content: "Hello" }] });
        let text = "";
        let finish: string | null | undefined;
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta.content ?? "";
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        const { data: models } = await client.models.list();
        const stranger = new OpenAI({ baseURL, apiKey: "rbee_sk_not_a_key", dangerouslyAllowBrowser: true, maxRetries: 0 });
        const refused = await stranger.models.list().then(
          () => undefined,
          (error: { status?: number; code?: string }) => ({ status: error.status, code: error.code }),
        );
        return { text, finish, models: models.map((each) => each.id), refused };
      },
      { baseURL: `${cloud.queen.url}/v1`, apiKey: cloud.apiKey, model: TINY_MODEL },
    );
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(outcome.finish).toBe("length");
    expect(outcome.models).toContain(TINY_MODEL);
    expect(outcome.refused).toEqual({ status: 401, code: "invalid_api_key" });
  });

  it("streams a message with the Anthropic client", { timeout: 60_000 }, async () => {
    const outcome = await page.evaluate(
      async ({ baseURL, apiKey, model }) => {
        const { Anthropic } = (globalThis as unknown as PageWindow).clients;
        const client = new Anthropic({ baseURL, apiKey, dangerouslyAllowBrowser: true, maxRetries: 0 });
        const stream = client.messages.stream({ model, max_tokens: 8, messages: [{ role: "user", content: "Hello" }] });
        const message = await stream.finalMessage();
        return { stop: message.stop_reason, text: message.content.map((block) => (block.type === "text" ? block.text : "")).join(""), output: message.usage.output_tokens };
      },
      { baseURL: cloud.queen.url, apiKey: cloud.apiKey, model: TINY_MODEL },
    );
    expect(outcome.stop).toBe("max_tokens");
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(outcome.output).toBe(8);
  });
});
