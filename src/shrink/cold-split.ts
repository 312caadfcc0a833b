/**
 * Which functions of a module only configure-time callbacks can reach: the call graph of a
 * binaryen module, walked from its exported functions. A function is cold when some export in
 * `coldExports` reaches it and no other export does; everything a request, tick, http-call or
 * queue callback can reach stays hot, however rarely it runs.
 *
 * Edges: direct calls, and indirect calls through the table. AssemblyScript calls a function
 * value through a static function object (its table index and a null environment, in the data);
 * code takes the value by the object's address, an `i32.const`. So an indirect call of one
 * signature can reach a table entry of that signature once code reachable from the same exports
 * has taken the entry's address: the flow queue's comparator (taken and sorted with on the
 * request path) is hot, the filter and scorer factories (taken by the registry at start, called
 * while configuring) are cold, although all of them share a signature. A table entry whose
 * object is not found, or whose address is also stored in the data (reachable through memory),
 * is reachable from every indirect call of its signature.
 *
 * The split only chooses how a function is optimised, never what it does: a function wrongly
 * classed stays correct, which the side-by-side bench (`npm run bench -- --baseline-plugin`)
 * and the plugin tests check.
 *
 * The graph is read from binaryen's text of the module (function headers, calls, table entries),
 * which names every function the same way in all three places. Anything the reader does not
 * recognise (a call to an unknown name, a `ref.func`) throws, so a change in the text format
 * fails the build instead of misclassifying a function.
 */
import binaryen from "binaryen";

/** The call graph and the cold set. Names are binaryen's internal function names. */
export interface ColdSplit {
  /** Defined functions only the cold exports reach, in module order. */
  cold: string[];
  /** Defined functions some other export reaches (or no export at all), in module order. */
  hot: string[];
}

export class CallGraphError extends Error {
  readonly code = "E_CALL_GRAPH";
  constructor(message: string) {
    super(message);
    this.name = "CallGraphError";
  }
}

interface FunctionNode {
  /** The name as the text prints it. */
  textName: string;
  /** Signature as "(param i32 i32) (result i32)", to match indirect calls with table entries. */
  signature: string;
  imported: boolean;
  calls: Set<string>;
  /** Signatures this function calls indirectly. */
  indirect: Set<string>;
  /** `i32.const` values in the body (candidate function-object addresses). */
  constants: Set<number>;
}

/** One table entry: its function and the addresses of its function objects in the data. */
interface TableEntry {
  name: string;
  /** Empty: not found, reachable from every indirect call of its signature. */
  objects: number[];
}

const FUNC_HEADER = /^ \(func \$(\S+)(.*)$/;
const IMPORT_FUNC = /^ \(import "[^"]*" "[^"]*" \(func \$(\S+)(.*)\)\)$/;
const TYPE_DEF = /^ \(type \$(\S+) \(func(.*)\)\)$/;
const CALL = /\((?:return_)?call \$([^\s)]+)/g;
const CONST = /\(i32\.const (-?\d+)\)/g;
const CALL_INDIRECT = /\((?:return_)?call_indirect(?: \$[^\s)]+)? \(type \$([^\s)]+)\)/g;

/** "(param $0 i32) (param $1 i32) (result i32)" → "(param i32 i32) (result i32)". */
function signatureOf(rest: string): string {
  const params = [...rest.matchAll(/\(param (?:\$\S+ )?([^)]*)\)/g)].flatMap((m) => m[1]!.trim().split(/\s+/));
  const results = [...rest.matchAll(/\(result ([^)]*)\)/g)].flatMap((m) => m[1]!.trim().split(/\s+/));
  return `(param ${params.join(" ")}) (result ${results.join(" ")})`;
}

/** Parses the module's text into function nodes (imports and definitions, in module order). */
function readGraph(text: string): { nodes: FunctionNode[]; exports: Map<string, string>; table: string[]; tableOffset: number } {
  const nodes: FunctionNode[] = [];
  const exports = new Map<string, string>();
  const types = new Map<string, string>();
  const table: string[] = [];
  let tableOffset = -1;
  const node = (textName: string, rest: string, imported: boolean): FunctionNode =>
    ({ textName, signature: signatureOf(rest), imported, calls: new Set(), indirect: new Set(), constants: new Set() });
  let current: FunctionNode | null = null;
  for (const line of text.split("\n")) {
    if (line.startsWith(" (") && !line.startsWith("  ")) current = null;
    const type = TYPE_DEF.exec(line);
    if (type) {
      types.set(type[1]!, signatureOf(type[2]!));
      continue;
    }
    const imp = IMPORT_FUNC.exec(line);
    if (imp) {
      nodes.push(node(imp[1]!, imp[2]!, true));
      continue;
    }
    const head = FUNC_HEADER.exec(line);
    if (head) {
      current = node(head[1]!, head[2]!, false);
      nodes.push(current);
      continue;
    }
    const exp = /^ \(export "([^"]+)" \(func \$([^\s)]+)\)\)$/.exec(line);
    if (exp) {
      exports.set(exp[1]!, exp[2]!);
      continue;
    }
    if (line.startsWith(" (elem ")) {
      const elem = /^ \(elem (?:\$\S+ )?\(i32\.const (\d+)\) (?:func )?(.*)\)$/.exec(line);
      if (!elem || tableOffset >= 0) throw new CallGraphError("expected one table segment at a constant offset");
      tableOffset = Number(elem[1]);
      for (const m of elem[2]!.matchAll(/\$([^\s)]+)/g)) table.push(m[1]!);
      continue;
    }
    if (line.startsWith(" (start ")) throw new CallGraphError("the module has a start function; only an exported one is expected");
    if (!current) continue;
    if (line.includes("ref.func")) throw new CallGraphError(`${current.textName} takes a function reference (ref.func), which the call graph does not follow`);
    for (const m of line.matchAll(CALL)) current.calls.add(m[1]!);
    for (const m of line.matchAll(CONST)) current.constants.add(Number(m[1]) >>> 0);
    for (const m of line.matchAll(CALL_INDIRECT)) {
      const sig = types.get(m[1]!);
      if (!sig) throw new CallGraphError(`${current.textName} calls indirectly through unknown type $${m[1]}`);
      current.indirect.add(sig);
    }
  }
  return { nodes, exports, table, tableOffset };
}

/** Data segment reads that binaryen.js has but its typings lack. */
interface DataSegmentReads {
  getNumDataSegments(): number;
  getDataSegmentInfo(segment: binaryen.DataSegmentRef): { offset: number | null; data: ArrayBuffer; passive: boolean };
}

/**
 * Addresses of each table entry's static function object: 8 bytes of payload (table index, then
 * a null environment) after a header whose last word, the payload size, is 8. Also whether the
 * address is stored in the data elsewhere (then code can reach the object through memory).
 */
function tableObjects(module: binaryen.Module, table: string[], tableOffset: number): TableEntry[] {
  // The data as memory holds it at start: segments over zeros (the compiler drops trailing zeros).
  const reads = module as unknown as DataSegmentReads;
  const segments: Array<{ offset: number; data: Uint8Array }> = [];
  for (let i = 0; i < reads.getNumDataSegments(); i++) {
    const info = reads.getDataSegmentInfo(module.getDataSegmentByIndex(i));
    if (!info.passive && info.offset !== null) segments.push({ offset: info.offset, data: new Uint8Array(info.data) });
  }
  if (!segments.length) return table.map((name) => ({ name, objects: [] }));
  const base = Math.min(...segments.map((g) => g.offset)) & ~3;
  const image = new Uint8Array(Math.max(...segments.map((g) => g.offset + g.data.length)) - base + 8);
  for (const g of segments) image.set(g.data, g.offset - base);
  const view = new DataView(image.buffer);
  const word = (address: number) => view.getUint32(address - base, true);
  const stored = new Set<number>();
  for (let at = base; at + 4 <= base + image.length; at += 4) stored.add(word(at));
  const byIndex = new Map<number, number[]>();
  for (let at = base + 4; at + 8 <= base + image.length; at += 4) {
    const v = word(at);
    if (v >= tableOffset && v < tableOffset + table.length && word(at + 4) === 0 && word(at - 4) === 8) {
      byIndex.set(v, [...(byIndex.get(v) ?? []), at]);
    }
  }
  return table.map((name, i) => {
    const objects = byIndex.get(tableOffset + i) ?? [];
    return { name, objects: objects.some((a) => stored.has(a)) ? [] : objects };
  });
}

/**
 * Function names reachable from `roots`: direct calls, and table entries whose signature some
 * reached function calls indirectly once a reached function took their address (or always, for
 * entries without a known object). Repeats until nothing new is reached.
 */
function reach(roots: Iterable<string>, byName: Map<string, FunctionNode>, table: TableEntry[]): Set<string> {
  const seen = new Set<string>();
  const work = [...roots];
  const signatures = new Set<string>();
  const taken = new Set<number>();
  for (;;) {
    while (work.length) {
      const name = work.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const node = byName.get(name)!;
      for (const c of node.calls) work.push(c);
      for (const sig of node.indirect) signatures.add(sig);
      for (const c of node.constants) taken.add(c);
    }
    for (const t of table) {
      if (seen.has(t.name) || !signatures.has(byName.get(t.name)!.signature)) continue;
      if (t.objects.length === 0 || t.objects.some((a) => taken.has(a))) work.push(t.name);
    }
    if (!work.length) return seen;
  }
}

/**
 * Splits the defined functions of `module` into cold (reached only from `coldExports`) and hot.
 * Throws when an export in `coldExports` is missing or the text holds something unrecognised.
 */
export function splitCold(module: binaryen.Module, coldExports: readonly string[]): ColdSplit {
  const { nodes, exports, table: tableNames, tableOffset } = readGraph(module.emitText());
  const count = module.getNumFunctions();
  if (nodes.length !== count) throw new CallGraphError(`the text lists ${nodes.length} functions, the module has ${count}`);
  const byName = new Map(nodes.map((n) => [n.textName, n]));
  for (const n of nodes) {
    for (const c of n.calls) if (!byName.has(c)) throw new CallGraphError(`${n.textName} calls $${c}, which the text does not define`);
  }
  for (const t of tableNames) if (!byName.has(t)) throw new CallGraphError(`the table holds $${t}, which the text does not define`);
  const table = tableNames.length ? tableObjects(module, tableNames, tableOffset) : [];
  for (const e of coldExports) if (!exports.has(e)) throw new CallGraphError(`the module exports no function ${e}`);
  const coldRoots = coldExports.map((e) => exports.get(e)!);
  const hotRoots = [...exports].filter(([e]) => !coldExports.includes(e)).map(([, f]) => f);
  const fromCold = reach(coldRoots, byName, table);
  const fromHot = reach(hotRoots, byName, table);
  const split: ColdSplit = { cold: [], hot: [] };
  // binaryen prints functions in module order, imports first: index i of the text is index i of
  // the module, which gives the function's own (unescaped) name.
  for (let i = 0; i < count; i++) {
    const node = nodes[i]!;
    const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (Boolean(info.module) !== node.imported) throw new CallGraphError(`function ${i} (${info.name}) is ${info.module ? "" : "not "}imported in the module but the text says otherwise`);
    if (node.imported) continue;
    if (!sameName(info.name, node.textName)) throw new CallGraphError(`function ${i} is ${info.name} in the module but $${node.textName} in the text`);
    (fromCold.has(node.textName) && !fromHot.has(node.textName) ? split.cold : split.hot).push(info.name);
  }
  return split;
}

/**
 * binaryen's text escapes characters outside its identifier set as `\xx` (hex); some names
 * already carry such escapes (the compiler's name section has them), which the text keeps.
 */
function sameName(name: string, textName: string): boolean {
  return textName === name || textName.replace(/\\([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) === name;
}
