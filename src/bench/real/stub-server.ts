/**
 * The zero-latency stub (stub.ts) as its own process, so its work does not share the load
 * generator's event loop: `node stub-server.js <count> <file>` listens on `count` free ports of
 * 127.0.0.1 and writes their addresses to `file` as a JSON array (renamed into place, so a reader
 * never sees half of it). One process serves every endpoint: 1,024 endpoints cost one process.
 */
import { renameSync, writeFileSync } from "node:fs";
import { listenStub } from "./stub.js";

const count = Number(process.argv[2] ?? "8");
const out = process.argv[3];
if (!Number.isInteger(count) || count < 1 || count > 4096 || !out) {
  process.stderr.write("usage: stub-server <count 1..4096> <addresses file>\n");
  process.exit(2);
}
const { addresses } = await listenStub(count);
writeFileSync(`${out}.tmp`, JSON.stringify(addresses));
renameSync(`${out}.tmp`, out);
