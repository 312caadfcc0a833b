// wayroute plugin entry. The wasm exports are the proxy-wasm callbacks (proxy-wasm/exports.ts);
// this file only names the root context. Everything the plugin does is driven by the config
// sections registered in plugin/sections.ts.

import { RootContext, setRootContextFactory } from "../proxy-wasm/index";
import { PluginRoot } from "./plugin/root";

export * from "../proxy-wasm/exports";

// Runs in _initialize (wasm start is exported, not automatic): no context exists yet, and Envoy
// allows only proxy_log here, so this must not call the host.
setRootContextFactory((contextId: u32): RootContext => new PluginRoot(contextId));
