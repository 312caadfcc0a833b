// wayroute's AssemblyScript runtime (asconfig.json `runtime`): the standard incremental
// collector (std rt/itcms) over our own allocator, which grows linear memory by what an
// allocation needs instead of doubling it (see heap.ts for why).
import "./global-heap";
import "~lib/rt/itcms";
