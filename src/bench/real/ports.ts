/** Free loopback TCP ports for peers that cannot bind port 0 and report it back. */
import { createServer, type Server } from "node:net";

/**
 * `n` distinct ports that were free a moment ago on 127.0.0.1 (held open together while picked,
 * so they differ; a small race with other programs remains and shows as a peer start failure).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => resolve());
      });
      servers.push(s);
    }
    return servers.map((s) => {
      const a = s.address();
      return typeof a === "object" && a ? a.port : 0;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
