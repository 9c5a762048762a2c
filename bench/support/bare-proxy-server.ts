// The child process of ./bare-proxy.ts: a bare one-hop reverse proxy on node:http, the least a
// gateway in front of a worker can do. Every request goes to the target given as argv[2] over
// kept-alive connections, with its headers (Host rewritten to the target's, which the worker
// checks) and its body piped through, and the answer piped back as it comes. No authentication,
// validation, routing, queueing, metering or logs. Prints its port on its first line.
import { Agent, createServer, request } from "node:http";

const target = new URL(process.argv[2] ?? "");
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

const server = createServer((incoming, outgoing) => {
  const upstream = request(
    { host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: { ...incoming.headers, host: target.host }, agent },
    (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    },
  );
  upstream.on("error", (error) => {
    if (!outgoing.headersSent) outgoing.writeHead(502, { "content-type": "text/plain" });
    outgoing.end(`bare proxy: ${error.message}`);
  });
  // A client that leaves takes its upstream request with it, as a gateway's would.
  outgoing.on("close", () => upstream.destroy());
  incoming.pipe(upstream);
});
// Longer than the clients' idle sockets (4 s), so the proxy never closes one they are about to use.
server.keepAliveTimeout = 10_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : ""}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
