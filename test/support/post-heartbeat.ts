// Posts a heartbeat to a hive's local channel on its unix socket, as a worker would (fetch cannot
// reach a unix socket); resolves with the HTTP status.
import http from "node:http";
import type { WorkerHeartbeat } from "../../shared/protocol/worker-heartbeat.js";

export function postHeartbeat(socketPath: string, heartbeat: WorkerHeartbeat): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, path: "/heartbeat", method: "POST", headers: { "content-type": "application/json" } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once("error", reject);
    request.end(JSON.stringify(heartbeat));
  });
}
