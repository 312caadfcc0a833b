/**
 * A deliberately tiny proxy-wasm host for ABI-layer tests that the full harness cannot express
 * (re-configuring a live root context, misbehaving host allocations, unknown context ids).
 * Implements only what build/plugin.wasm imports; everything else answers Unimplemented (12).
 */

const OK = 0;
const NOT_FOUND = 1;
const UNIMPLEMENTED = 12;

export interface MiniHostOptions {
  /** Called instead of the normal get_buffer_bytes behaviour when set. */
  getBufferBytes?: (host: MiniHost, type: number, start: number, max: number, ptrPtr: number, sizePtr: number) => number;
}

export class MiniHost {
  readonly logs: Array<{ level: number; message: string }> = [];
  readonly buffers = new Map<number, Uint8Array>();
  readonly headerMaps = new Map<number, Array<[string, string]>>();
  readonly metrics = new Map<number, { name: string; value: bigint }>();
  instance!: WebAssembly.Instance;

  private constructor(private readonly options: MiniHostOptions) {}

  static async create(module: WebAssembly.Module, options: MiniHostOptions = {}): Promise<MiniHost> {
    const host = new MiniHost(options);
    const env: Record<string, (...args: never[]) => number> = {};
    for (const i of WebAssembly.Module.imports(module)) env[i.name] = () => UNIMPLEMENTED;
    Object.assign(env, host.imports());
    host.instance = await WebAssembly.instantiate(module, { env });
    host.call("_initialize");
    return host;
  }

  get memory(): WebAssembly.Memory {
    return this.instance.exports.memory as WebAssembly.Memory;
  }

  call(name: string, ...args: number[]): number {
    const fn = this.instance.exports[name] as (...a: number[]) => number | undefined;
    return (fn(...args) ?? 0) as number;
  }

  text(ptr: number, size: number): string {
    return new TextDecoder().decode(new Uint8Array(this.memory.buffer, ptr, size));
  }

  /** Copies bytes into guest memory through the guest's malloc, as Envoy does. */
  copyIn(bytes: Uint8Array, ptrPtr: number, sizePtr: number): void {
    let ptr = 0;
    if (bytes.length > 0) {
      ptr = this.call("malloc", bytes.length);
      new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
    }
    const view = new DataView(this.memory.buffer);
    view.setUint32(ptrPtr, ptr, true);
    view.setUint32(sizePtr, bytes.length, true);
  }

  headers(type: number): Array<[string, string]> {
    let map = this.headerMaps.get(type);
    if (!map) this.headerMaps.set(type, (map = []));
    return map;
  }

  private imports(): Record<string, (...args: never[]) => number> {
    return {
      proxy_log: (level: number, ptr: number, size: number) => {
        this.logs.push({ level, message: this.text(ptr, size) });
        return OK;
      },
      proxy_get_buffer_bytes: (type: number, start: number, max: number, ptrPtr: number, sizePtr: number) => {
        if (this.options.getBufferBytes) return this.options.getBufferBytes(this, type, start, max, ptrPtr, sizePtr);
        const buffer = this.buffers.get(type);
        if (!buffer) return NOT_FOUND;
        const slice = buffer.subarray(start, Math.min(buffer.length, start + max));
        if (slice.length > 0) this.copyIn(slice, ptrPtr, sizePtr);
        return OK;
      },
      proxy_define_metric: (_type: number, ptr: number, size: number, idPtr: number) => {
        const name = this.text(ptr, size);
        let id = [...this.metrics.entries()].find(([, m]) => m.name === name)?.[0];
        if (id === undefined) {
          id = this.metrics.size;
          this.metrics.set(id, { name, value: 0n });
        }
        new DataView(this.memory.buffer).setUint32(idPtr, id, true);
        return OK;
      },
      proxy_increment_metric: (id: number, offset: bigint) => {
        const metric = this.metrics.get(id);
        if (!metric) return NOT_FOUND;
        metric.value += offset;
        return OK;
      },
      proxy_replace_header_map_value: (type: number, kPtr: number, kSize: number, vPtr: number, vSize: number) => {
        const key = this.text(kPtr, kSize);
        const map = this.headers(type).filter(([k]) => k !== key);
        map.push([key, this.text(vPtr, vSize)]);
        this.headerMaps.set(type, map);
        return OK;
      },
      proxy_remove_header_map_value: (type: number, kPtr: number, kSize: number) => {
        const key = this.text(kPtr, kSize);
        this.headerMaps.set(
          type,
          this.headers(type).filter(([k]) => k !== key),
        );
        return OK;
      },
    };
  }
}
