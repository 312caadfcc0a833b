// The module's export surface: everything the host looks up by name. A plugin entry re-exports
// this file (`export * from "../proxy-wasm/exports"`) and nothing else from proxy-wasm, so the
// wasm exports are exactly this list plus `memory` and `_initialize`.

// Brings the custom abort into the program so `--use abort=proxy-wasm/abort/wayrouteAbort` resolves.
import "./abort";

export { hostMalloc as malloc } from "./allocator";
export {
  proxy_abi_version_0_2_1,
  proxy_on_context_create,
  proxy_on_vm_start,
  proxy_on_configure,
  proxy_on_tick,
  proxy_on_queue_ready,
  proxy_on_foreign_function,
  proxy_on_http_call_response,
  proxy_on_log,
  proxy_on_done,
  proxy_on_delete,
  proxy_on_request_headers,
  proxy_on_request_body,
  proxy_on_request_trailers,
  proxy_on_response_headers,
  proxy_on_response_body,
  proxy_on_response_trailers,
  proxy_on_new_connection,
  proxy_on_downstream_data,
  proxy_on_upstream_data,
  proxy_on_downstream_connection_close,
  proxy_on_upstream_connection_close,
} from "./dispatcher";
