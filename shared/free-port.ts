// Finds a free loopback TCP port by letting the kernel pick one: the port the hive gives a worker
// to listen on, and the ports tests and benchmarks start their workers and servers on.
import net from "node:net";

export async function findFreeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("could not read the picked port");
  return address.port;
}
