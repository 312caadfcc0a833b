import { readFile } from "node:fs/promises";
import { corpusPath } from "./corpus.js";

const cache = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles a corpus plugin once per test file. */
export function corpusModule(file: string): Promise<WebAssembly.Module> {
  let m = cache.get(file);
  if (!m) {
    m = readFile(corpusPath(file)).then((b) => WebAssembly.compile(b));
    cache.set(file, m);
  }
  return m;
}
