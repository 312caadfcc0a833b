/**
 * The proxy-wasm ABI 0.2.1 as Envoy links it (proxy-wasm-cpp-host `src/exports.cc`,
 * `src/wasm.cc`, `include/proxy-wasm/wasm.h`), in wasm32 signatures. Test data only.
 */
import type { Signature } from "./wasm-reader.js";

const i32x = (n: number): Signature => `(${Array.from({ length: n }, () => "i32").join(",")})->i32`;

/** Every `env.proxy_*` host function Envoy links for an ABI 0.2.1 module, with its signature. */
export const HOST_FUNCTIONS_0_2_1: Record<string, Signature> = {
  "env.proxy_log": i32x(3),
  "env.proxy_get_log_level": i32x(1),
  "env.proxy_get_status": i32x(3),
  "env.proxy_get_current_time_nanoseconds": i32x(1),
  "env.proxy_set_tick_period_milliseconds": i32x(1),
  "env.proxy_get_property": i32x(4),
  "env.proxy_set_property": i32x(4),
  "env.proxy_get_header_map_pairs": i32x(3),
  "env.proxy_set_header_map_pairs": i32x(3),
  "env.proxy_get_header_map_size": i32x(2),
  "env.proxy_get_header_map_value": i32x(5),
  "env.proxy_add_header_map_value": i32x(5),
  "env.proxy_replace_header_map_value": i32x(5),
  "env.proxy_remove_header_map_value": i32x(3),
  "env.proxy_get_buffer_bytes": i32x(5),
  "env.proxy_get_buffer_status": i32x(3),
  "env.proxy_set_buffer_bytes": i32x(5),
  "env.proxy_send_local_response": i32x(8),
  "env.proxy_continue_stream": i32x(1),
  "env.proxy_close_stream": i32x(1),
  "env.proxy_http_call": i32x(10),
  "env.proxy_grpc_call": i32x(12),
  "env.proxy_grpc_stream": i32x(9),
  "env.proxy_grpc_send": i32x(4),
  "env.proxy_grpc_cancel": i32x(1),
  "env.proxy_grpc_close": i32x(1),
  "env.proxy_get_shared_data": i32x(5),
  "env.proxy_set_shared_data": i32x(5),
  "env.proxy_register_shared_queue": i32x(3),
  "env.proxy_resolve_shared_queue": i32x(5),
  "env.proxy_enqueue_shared_queue": i32x(3),
  "env.proxy_dequeue_shared_queue": i32x(3),
  "env.proxy_define_metric": i32x(4),
  "env.proxy_increment_metric": "(i32,i64)->i32",
  "env.proxy_record_metric": "(i32,i64)->i32",
  "env.proxy_get_metric": i32x(2),
  "env.proxy_set_effective_context": i32x(1),
  "env.proxy_done": i32x(0),
  "env.proxy_call_foreign_function": i32x(6),
};

/** ABI 0.1.0-only calls: Envoy does not link them for 0.2.x, so importing one breaks loading. */
export const ABI_0_1_0_ONLY = [
  "env.proxy_get_configuration",
  "env.proxy_clear_route_cache",
  "env.proxy_continue_request",
  "env.proxy_continue_response",
];

/** Callbacks the host looks up by name (0.2.1), with the signature it calls them with. */
export const CALLBACKS_0_2_1: Record<string, Signature> = {
  proxy_on_context_create: "(i32,i32)->void",
  proxy_on_vm_start: "(i32,i32)->i32",
  proxy_on_configure: "(i32,i32)->i32",
  proxy_on_tick: "(i32)->void",
  proxy_on_queue_ready: "(i32,i32)->void",
  proxy_on_foreign_function: "(i32,i32,i32)->void",
  proxy_on_http_call_response: "(i32,i32,i32,i32,i32)->void",
  proxy_on_request_headers: "(i32,i32,i32)->i32",
  proxy_on_request_body: "(i32,i32,i32)->i32",
  proxy_on_request_trailers: "(i32,i32)->i32",
  proxy_on_response_headers: "(i32,i32,i32)->i32",
  proxy_on_response_body: "(i32,i32,i32)->i32",
  proxy_on_response_trailers: "(i32,i32)->i32",
  proxy_on_new_connection: "(i32)->i32",
  proxy_on_downstream_data: "(i32,i32,i32)->i32",
  proxy_on_upstream_data: "(i32,i32,i32)->i32",
  proxy_on_downstream_connection_close: "(i32,i32)->void",
  proxy_on_upstream_connection_close: "(i32,i32)->void",
  proxy_on_log: "(i32)->void",
  proxy_on_done: "(i32)->i32",
  proxy_on_delete: "(i32)->void",
};
