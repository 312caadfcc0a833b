/**
 * Several simulated model servers in one process, each on its own 127.0.0.1 port.
 */
import type { SimStats } from "./engine.js";
import type { SimParams } from "./params.js";
import { SimServer } from "./server.js";

export interface SimClusterOptions {
  /** How many servers (default 4). */
  servers?: number;
  /** First port; servers take consecutive ports. 0 (default) picks free ports. */
  basePort?: number;
  /** Parameters shared by every server. */
  params?: Partial<SimParams>;
  /** Name prefix (default "sim"): servers are named sim-0, sim-1, ... */
  namePrefix?: string;
}

export class SimCluster {
  private constructor(readonly servers: SimServer[]) {}

  /** Starts every server; stops the ones already started if one fails. */
  static async start(options: SimClusterOptions = {}): Promise<SimCluster> {
    const n = options.servers ?? 4;
    const servers: SimServer[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const s = new SimServer({
          name: `${options.namePrefix ?? "sim"}-${i}`,
          port: options.basePort ? options.basePort + i : 0,
          ...(options.params ? { params: options.params } : {}),
        });
        await s.start();
        servers.push(s);
      }
    } catch (err) {
      await Promise.all(servers.map((s) => s.stop()));
      throw err;
    }
    return new SimCluster(servers);
  }

  /** `ip:port` of every server, in order. */
  get addresses(): string[] {
    return this.servers.map((s) => s.address);
  }

  /** Stats per server name. */
  stats(): Record<string, SimStats> {
    return Object.fromEntries(this.servers.map((s) => [s.name, s.stats()]));
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
