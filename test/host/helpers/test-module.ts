/**
 * A hand-written proxy-wasm test module (WAT, compiled with wabt). Every exported callback calls
 * the JS hook `test.on(callback, a, b, c, d)` and returns its result (-99 executes `unreachable`,
 * a real Wasm trap). Every Envoy host function is re-exported as `host_<name>` so a hook can call
 * it with arbitrary pointers while the callback's context is current.
 */
import { ProxyWasmHost, type ProxyWasmHostOptions } from "../../../src/index.js";
import { wat } from "./wat.js";

const I = "i32";
/** Host functions and their parameter types (all return i32). */
export const HOST_FUNCTIONS: Record<string, string[]> = {
  proxy_log: [I, I, I],
  proxy_get_log_level: [I],
  proxy_get_current_time_nanoseconds: [I],
  proxy_set_tick_period_milliseconds: [I],
  proxy_get_property: [I, I, I, I],
  proxy_set_property: [I, I, I, I],
  proxy_get_header_map_value: [I, I, I, I, I],
  proxy_add_header_map_value: [I, I, I, I, I],
  proxy_replace_header_map_value: [I, I, I, I, I],
  proxy_remove_header_map_value: [I, I, I],
  proxy_get_header_map_pairs: [I, I, I],
  proxy_set_header_map_pairs: [I, I, I],
  proxy_get_header_map_size: [I, I],
  proxy_get_buffer_bytes: [I, I, I, I, I],
  proxy_set_buffer_bytes: [I, I, I, I, I],
  proxy_get_buffer_status: [I, I, I],
  proxy_http_call: [I, I, I, I, I, I, I, I, I, I],
  proxy_get_shared_data: [I, I, I, I, I],
  proxy_set_shared_data: [I, I, I, I, I],
  proxy_register_shared_queue: [I, I, I],
  proxy_resolve_shared_queue: [I, I, I, I, I],
  proxy_enqueue_shared_queue: [I, I, I],
  proxy_dequeue_shared_queue: [I, I, I],
  proxy_define_metric: [I, I, I, I],
  proxy_increment_metric: [I, "i64"],
  proxy_record_metric: [I, "i64"],
  proxy_get_metric: [I, I],
  proxy_send_local_response: [I, I, I, I, I, I, I, I],
  proxy_continue_stream: [I],
  proxy_close_stream: [I],
  proxy_set_effective_context: [I],
  proxy_call_foreign_function: [I, I, I, I, I, I],
  proxy_get_status: [I, I, I],
  proxy_done: [],
};

/** Exported callbacks: name -> [param count, returns a value]. */
const CALLBACKS: Record<string, [number, boolean]> = {
  proxy_on_context_create: [2, false],
  proxy_on_vm_start: [2, true],
  proxy_on_configure: [2, true],
  proxy_on_request_headers: [3, true],
  proxy_on_request_body: [3, true],
  proxy_on_request_trailers: [2, true],
  proxy_on_response_headers: [3, true],
  proxy_on_response_body: [3, true],
  proxy_on_response_trailers: [2, true],
  proxy_on_log: [1, false],
  proxy_on_done: [1, true],
  proxy_on_delete: [1, false],
  proxy_on_tick: [1, false],
  proxy_on_queue_ready: [2, false],
  proxy_on_http_call_response: [5, false],
};
export type CallbackName = keyof typeof CALLBACKS;

export interface ModuleShape {
  abi?: "0_2_1" | "0_2_0" | "0_1_0" | "none";
  allocator?: "malloc" | "proxy_on_memory_allocate" | "both";
  start?: "_initialize" | "_start" | "none";
  /** Host functions to import (default: all). */
  imports?: string[];
  /** Extra raw import lines. */
  extraImportLines?: string[];
}

export function testModuleWat(shape: ModuleShape = {}): string {
  const abi = shape.abi ?? "0_2_1";
  const allocator = shape.allocator ?? "malloc";
  const imports = shape.imports ?? Object.keys(HOST_FUNCTIONS);
  const lines: string[] = ["(module"];
  lines.push('  (import "test" "on" (func $on (param i32 i32 i32 i32 i32) (result i32)))');
  for (const name of imports) {
    const params = HOST_FUNCTIONS[name]!;
    lines.push(`  (import "env" "${name}" (func $${name} (param ${params.join(" ")}) (result i32)))`);
  }
  for (const l of shape.extraImportLines ?? []) lines.push(`  ${l}`);
  lines.push('  (memory (export "memory") 2)');
  lines.push("  (global $heap (mut i32) (i32.const 32768))");
  lines.push('  (global $allocs (export "allocs") (mut i32) (i32.const 0))');
  lines.push('  (global $zeroAllocs (export "zero_allocs") (mut i32) (i32.const 0))');
  lines.push('  (global $pomAllocs (export "pom_allocs") (mut i32) (i32.const 0))');
  lines.push('  (global $started (export "started") (mut i32) (i32.const 0))');
  const alloc = (name: string) =>
    `  (func (export "${name}") (param $n i32) (result i32) (local $p i32)
    (global.set ${name === "malloc" ? "$allocs" : "$pomAllocs"} (i32.add (global.get ${name === "malloc" ? "$allocs" : "$pomAllocs"}) (i32.const 1)))
    (if (i32.eqz (local.get $n)) (then (global.set $zeroAllocs (i32.add (global.get $zeroAllocs) (i32.const 1)))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
    (local.get $p))`;
  if (allocator === "malloc" || allocator === "both") lines.push(alloc("malloc"));
  if (allocator === "proxy_on_memory_allocate" || allocator === "both") lines.push(alloc("proxy_on_memory_allocate"));
  if (abi !== "none") lines.push(`  (func (export "proxy_abi_version_${abi}"))`);
  if (shape.start !== "none") {
    lines.push(`  (func (export "${shape.start ?? "_initialize"}") (global.set $started (i32.const 1)))`);
  }
  let id = 0;
  for (const [name, [n, returns]] of Object.entries(CALLBACKS)) {
    const params = Array.from({ length: n }, (_, i) => `(param $p${i} i32)`).join(" ");
    const args = Array.from({ length: 4 }, (_, i) => (i < n ? `(local.get $p${i})` : "(i32.const 0)")).join(" ");
    lines.push(`  (func (export "${name}") ${params} ${returns ? "(result i32)" : ""} (local $r i32)
    (local.set $r (call $on (i32.const ${id}) ${args}))
    (if (i32.eq (local.get $r) (i32.const -99)) (then unreachable))
    ${returns ? "(local.get $r)" : ""})`);
    id++;
  }
  for (const name of imports) lines.push(`  (export "host_${name}" (func $${name}))`);
  lines.push(")");
  return lines.join("\n");
}

const CALLBACK_NAMES = Object.keys(CALLBACKS) as CallbackName[];

/** Access to the guest from inside a hook. */
export class Guest {
  private scratch = 1024;
  constructor(private readonly instance: WebAssembly.Instance) {}

  private get mem(): Uint8Array {
    return new Uint8Array((this.instance.exports["memory"] as WebAssembly.Memory).buffer);
  }
  /** Calls a host function through its re-export. */
  call(name: string, ...args: Array<number | bigint>): number {
    return (this.instance.exports[`host_${name}`] as (...a: Array<number | bigint>) => number)(...args);
  }
  /** Writes bytes into a scratch area (reset per hook call); returns [ptr, len]. */
  put(data: string | Uint8Array): [number, number] {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const ptr = this.scratch;
    this.mem.set(bytes, ptr);
    this.scratch += (bytes.length + 8) & ~7;
    return [ptr, bytes.length];
  }
  /** Reserves n zeroed bytes (out-parameters). */
  slot(n = 8): number {
    const ptr = this.scratch;
    this.mem.fill(0, ptr, ptr + n);
    this.scratch += (n + 7) & ~7;
    return ptr;
  }
  u32(ptr: number): number {
    return new DataView(this.mem.buffer).getUint32(ptr, true);
  }
  u64(ptr: number): bigint {
    return new DataView(this.mem.buffer).getBigUint64(ptr, true);
  }
  read(ptr: number, len: number): Uint8Array {
    return this.mem.slice(ptr, ptr + len);
  }
  /** Reads the (ptr, size) a host function wrote to two out-slots. */
  result(ptrSlot: number, sizeSlot: number): Uint8Array {
    return this.read(this.u32(ptrSlot), this.u32(sizeSlot));
  }
  text(ptrSlot: number, sizeSlot: number): string {
    return new TextDecoder().decode(this.result(ptrSlot, sizeSlot));
  }
  global(name: string): number {
    return (this.instance.exports[name] as WebAssembly.Global).value as number;
  }
  memorySize(): number {
    return this.mem.length;
  }
  reset(): void {
    this.scratch = 1024;
  }
}

export type Hook = (g: Guest, a: number, b: number, c: number, d: number) => number | void;
export type Hooks = Partial<Record<CallbackName, Hook>>;

/** Default returns when no hook is given: 1 for vm_start/configure/done, else 0. */
const DEFAULT_RESULT: Partial<Record<CallbackName, number>> = { proxy_on_vm_start: 1, proxy_on_configure: 1, proxy_on_done: 1 };

/**
 * Creates a host running the test module; `hooks` implement the callbacks. Returns the host and a
 * way to get a Guest for any worker.
 */
export async function testHost(
  hooks: Hooks,
  options: Partial<ProxyWasmHostOptions> = {},
  shape: ModuleShape = {},
): Promise<{ host: ProxyWasmHost; guest: (worker?: number) => Guest; calls: string[] }> {
  const bytes = await wat(testModuleWat(shape));
  const calls: string[] = [];
  // eslint-disable-next-line prefer-const
  let host: ProxyWasmHost | undefined;
  const guests = new Map<WebAssembly.Instance, Guest>();
  const guestOf = (instance: WebAssembly.Instance) => {
    let g = guests.get(instance);
    if (!g) guests.set(instance, (g = new Guest(instance)));
    return g;
  };
  const pendingInstances: WebAssembly.Instance[] = [];
  const on = (cb: number, a: number, b: number, c: number, d: number): number => {
    const name = CALLBACK_NAMES[cb]!;
    calls.push(`${name}(${[a, b, c, d].slice(0, 0 + argCount(name)).join(",")})`);
    const hook = hooks[name];
    if (!hook) return DEFAULT_RESULT[name] ?? 0;
    const vm = host?.rootVms.find((v) => v.inCall);
    const instance = vm?.instance ?? pendingInstances[pendingInstances.length - 1];
    if (!instance) throw new Error("test hook: no running VM");
    const g = guestOf(instance);
    g.reset();
    const r = hook(g, a, b, c, d);
    return typeof r === "number" ? r : (DEFAULT_RESULT[name] ?? 0);
  };
  // During create() the host object does not exist yet: find the instance being started by
  // wrapping WebAssembly.Instance construction.
  const OriginalInstance = WebAssembly.Instance;
  const Patched = function (this: unknown, module: WebAssembly.Module, imports?: WebAssembly.Imports) {
    const inst = new OriginalInstance(module, imports);
    pendingInstances.push(inst);
    return inst;
  } as unknown as typeof WebAssembly.Instance;
  (WebAssembly as { Instance: typeof WebAssembly.Instance }).Instance = Patched;
  try {
    host = await ProxyWasmHost.create({ module: bytes, extraImports: { test: { on } }, ...options });
  } finally {
    (WebAssembly as { Instance: typeof WebAssembly.Instance }).Instance = OriginalInstance;
  }
  const h = host;
  return { host: h, guest: (worker = 0) => guestOf(h.worker(worker).vm.instance!), calls };
}

function argCount(name: CallbackName): number {
  return Math.min(4, CALLBACKS[name]![0]);
}
