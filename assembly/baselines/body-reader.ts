// Baseline plugin for benchmarks: the cost of buffering a request body and copying it into the
// VM, with no parsing and no policy. Headers pass; body chunks are held (StopIterationAndBuffer)
// until end of stream, then the whole body is read once with proxy_get_buffer_bytes.

import {
  BufferType,
  FilterDataStatus,
  HttpContext,
  RootContext,
  getBufferBytes,
  setRootContextFactory,
} from "../../proxy-wasm/index";

export * from "../../proxy-wasm/exports";

class BodyReaderStream extends HttpContext {
  /** Bytes read at end of stream; kept so the read cannot be optimised away. */
  bytesRead: i32 = 0;

  onRequestBody(bodySize: usize, endOfStream: bool): FilterDataStatus {
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    const body = getBufferBytes(BufferType.HttpRequestBody, 0, bodySize);
    if (body != null) this.bytesRead = body.byteLength;
    return FilterDataStatus.Continue;
  }
}

class BodyReaderRoot extends RootContext {
  createHttpContext(contextId: u32): HttpContext | null {
    return new BodyReaderStream(contextId, this.contextId);
  }
}

setRootContextFactory((contextId: u32): RootContext => new BodyReaderRoot(contextId));
