// Baseline plugin for benchmarks: the cost of the ABI layer alone. One root context, one HTTP
// context per stream, every callback returns Continue and calls nothing on the host.

import { HttpContext, RootContext, setRootContextFactory } from "../../proxy-wasm/index";

export * from "../../proxy-wasm/exports";

class PassthroughRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext | null {
    return new HttpContext(contextId, this.contextId);
  }
}

setRootContextFactory((contextId: u32): RootContext => new PassthroughRoot(contextId));
