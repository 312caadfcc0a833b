// Public surface of the proxy-wasm ABI layer for plugin code. (The wasm export list lives in
// exports.ts; the raw imports in imports.ts are private to hostcalls.ts.)

export * from "./types";
export { HttpContext, RootContext } from "./context";
export { RootContextFactory, setRootContextFactory, liveStreamCount } from "./dispatcher";
export { HeaderPair, serializeHeaderMap, deserializeHeaderMap, deserializeHeaderMapAt, findHeader } from "./header-map";
export {
  encodePropertyPath,
  decodePropertyPath,
  decodePropertyU64,
  decodePropertyString,
} from "./property-path";
export * from "./hostcalls";
export { EMPTY_BUFFER, recycleHostBlock } from "./allocator";
