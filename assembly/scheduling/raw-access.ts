// Call-free element access for the per-request O(endpoints) loops of a scheduling cycle.
//
// Why: the release build optimises for size (shrinkLevel 1), so binaryen does not inline
// `Array#length`, `Array#__uget` (what `unchecked(a[i])` compiles to) or `Float64Array#__uget`.
// In a loop each of them is a function call, and around every call the shadow stack spills the
// managed locals that are live across it. With 1024 endpoints that was most of a pick's cost.
// These helpers are @inline (expanded by the AssemblyScript compiler itself) and read the
// backing store directly, so a loop built from them and from plain field reads makes no calls.
//
// Contract: no bounds checks. Callers read a length once and stay below it; an array written
// through `setI32At` must already have that length (set `a.length = n` first: one call that
// also reserves the capacity).
import { Endpoint } from "../endpoints/endpoint";

// @ts-ignore: decorator
@inline
export function i32At(a: i32[], k: i32): i32 {
  return load<i32>(a.dataStart + (<usize>k << 2));
}

// @ts-ignore: decorator
@inline
export function setI32At(a: i32[], k: i32, v: i32): void {
  store<i32>(a.dataStart + (<usize>k << 2), v);
}

// @ts-ignore: decorator
@inline
export function f64At(a: Float64Array, k: i32): f64 {
  return load<f64>(a.dataStart + (<usize>k << 3));
}

// @ts-ignore: decorator
@inline
export function setF64At(a: Float64Array, k: i32, v: f64): void {
  store<f64>(a.dataStart + (<usize>k << 3), v);
}

// @ts-ignore: decorator
@inline
export function endpointAt(eps: Endpoint[], i: i32): Endpoint {
  return changetype<Endpoint>(load<usize>(eps.dataStart + (<usize>i << alignof<usize>())));
}
