/**
 * CPU time of a process from /proc (Linux): user + system time of all its threads, in ms.
 * Used to charge routing work to Envoy and to the EPP per 1,000 requests.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * utime + stime from a `/proc/<pid>/stat` line, in ms. The command name (field 2) may hold
 * spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseProcStatCpuMs(stat: string, ticks = clockTicks()): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 120)}`);
  return ((utime + stime) * 1000) / ticks;
}

/** CPU ms used so far by `pid`, or undefined when /proc has no such process. */
export function cpuMs(pid: number): number | undefined {
  try {
    return parseProcStatCpuMs(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** One thread's name (`comm`) and CPU ms used so far. */
export interface ThreadCpu {
  name: string;
  ms: number;
}

/**
 * CPU ms used so far by each thread of `pid` (`/proc/<pid>/task/<tid>/stat`), by thread id;
 * empty when /proc has no such process. Envoy names its threads (`envoy` for the main thread,
 * `wrk:worker_<n>` for workers), so a breakdown shows which thread did the work.
 */
export function threadCpuMs(pid: number): Map<number, ThreadCpu> {
  const out = new Map<number, ThreadCpu>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      out.set(Number(tid), { name, ms: parseProcStatCpuMs(stat) });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}
