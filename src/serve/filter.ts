/**
 * The per-request filter the proxy runs, shaped after what Envoy's Wasm filter does to a stream:
 * each phase either continues (possibly with changed headers and data), waits for more body
 * (the filter buffers it), or answers locally. `WasmFilterFactory` runs a proxy-wasm plugin
 * through the harness; `PassThroughFilterFactory` changes nothing (the "no plugin" proxy).
 */

export type HeaderPairs = Array<[string, string]>;

/** What a filter phase decided. */
export type Verdict =
  | {
      kind: "continue";
      /** The headers to send now (present when the phase releases headers). */
      headers?: HeaderPairs;
      /** Body bytes to send now (everything buffered so far, after the filter's changes). */
      data?: Uint8Array;
    }
  | { kind: "wait" }
  | { kind: "local"; status: number; headers: HeaderPairs; body: Uint8Array }
  /** The plugin reset the stream (`proxy_close_stream`): the client gets no response. */
  | { kind: "reset"; reason: string };

/** One HTTP stream through a filter. Calls come in order; every call resolves (never rejects). */
export interface StreamFilter {
  requestHeaders(headers: HeaderPairs, endOfStream: boolean): Promise<Verdict>;
  requestData(chunk: Uint8Array, endOfStream: boolean): Promise<Verdict>;
  responseHeaders(headers: HeaderPairs, endOfStream: boolean): Promise<Verdict>;
  responseData(chunk: Uint8Array, endOfStream: boolean): Promise<Verdict>;
  /** The stream ended (normally or not): runs the plugin's log/done/delete. */
  end(): void;
}

/** Creates streams on one worker. */
export interface FilterWorker {
  createStream(info: StreamInfo): StreamFilter;
}

/** Per-stream facts a filter may expose as properties. */
export interface StreamInfo {
  /** Client address `ip:port`. */
  source: string;
  /** Listener address `ip:port`. */
  destination: string;
  /** Request id (`x-request-id`). */
  requestId: string;
}

/** A set of workers (one VM each for a wasm plugin) plus the lifecycle of the whole. */
export interface FilterFactory {
  readonly workers: FilterWorker[];
  /**
   * Whether the filter chooses upstreams (a plugin setting the endpoint or route header). When
   * not, a client's own steering header may name only configured upstreams.
   */
  readonly steers?: boolean;
  /** Moves the filter's clock forward by `ms` of real time (ticks, http-call timeouts). */
  advance?(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** A filter that changes nothing. */
export class PassThroughFilter implements StreamFilter {
  async requestHeaders(headers: HeaderPairs): Promise<Verdict> {
    return { kind: "continue", headers };
  }
  async requestData(chunk: Uint8Array): Promise<Verdict> {
    return { kind: "continue", data: chunk };
  }
  async responseHeaders(headers: HeaderPairs): Promise<Verdict> {
    return { kind: "continue", headers };
  }
  async responseData(chunk: Uint8Array): Promise<Verdict> {
    return { kind: "continue", data: chunk };
  }
  end(): void {}
}

export class PassThroughFilterFactory implements FilterFactory {
  readonly workers: FilterWorker[];
  constructor(workers = 1) {
    this.workers = Array.from({ length: workers }, () => ({ createStream: () => new PassThroughFilter() }));
  }
  async close(): Promise<void> {}
}
