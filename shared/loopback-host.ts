// Which hosts are this machine's loopback, as a URL's `hostname` spells them: where plain http is
// acceptable (a worker's hive channel, a test's model server) because nothing leaves the machine.

/** localhost, 127.0.0.0/8 and ::1 (`[::1]` in a URL). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127(\.\d{1,3}){3}$/.test(hostname);
}
