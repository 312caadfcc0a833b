// Helpers for the scheduling specs: build a small pool and run one plugin over all of it.
import { Endpoint } from "../endpoints/endpoint";
import { SchedulingContext } from "./context";
import { Filter, Scorer } from "./plugin";

/** Endpoint 10.0.0.<i+1>:8000 with the given queue and KV use, metrics fresh at t=1000. */
export function ep(i: i32, waiting: i32 = 0, kv: f64 = 0): Endpoint {
  let e = new Endpoint("10.0.0." + (i + 1).toString() + ":8000");
  e.index = i;
  e.waiting = waiting;
  e.kvUsage = kv;
  e.metricsAtMs = 1000;
  return e;
}

export function ctxOf(eps: Endpoint[]): SchedulingContext {
  let c = new SchedulingContext();
  c.reset(eps, 1000);
  return c;
}

export function all(n: i32): i32[] {
  let a: i32[] = [];
  for (let i = 0; i < n; i++) a.push(i);
  return a;
}

export function runFilter(f: Filter, ctx: SchedulingContext): string {
  let out: i32[] = [];
  f.filter(ctx, all(ctx.endpoints.length), out);
  return out.join(",");
}

export function runScorer(s: Scorer, ctx: SchedulingContext): string {
  let n = ctx.endpoints.length;
  let out = new Float64Array(n);
  s.score(ctx, all(n), out);
  let parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push((Math.round(out[i] * 1000) / 1000).toString());
  return parts.join(",");
}
