// wayroute's AssemblyScript runtime (asconfig.json `runtime`): the standard minimal collector
// (std rt/tcms: mark and sweep, run only when called, by proxy-wasm/collector.ts at callback
// entry) over our own allocator, which grows linear memory by what an allocation needs instead
// of doubling it (see heap.ts for why).
import "./global-heap";
import "~lib/rt/tcms";
