/**
 * HeaderList: the request's headers as plain data (lowercase names, in order; pseudo-headers
 * such as `:path` included), which the rule engine reads and updates as rules apply.
 *
 * API: `add(name, value)`, `get(name): string | null` (first value, like Envoy's
 * get_header_map_value), `has(name)`, `set(name, value)` (replace all values with one),
 * `remove(name)`, `length`, `nameAt(i)`, `valueAt(i)`, `clear()`.
 * Names are compared as given: callers pass lowercase names (Envoy lower-cases keys).
 */
import { removeAt } from "../util/remove-at";

export class HeaderList {
  private names: string[] = [];
  private values: string[] = [];

  get length(): i32 {
    return this.names.length;
  }

  nameAt(i: i32): string {
    return i >= 0 && i < this.names.length ? unchecked(this.names[i]) : "";
  }

  valueAt(i: i32): string {
    return i >= 0 && i < this.values.length ? unchecked(this.values[i]) : "";
  }

  clear(): void {
    this.names.length = 0;
    this.values.length = 0;
  }

  add(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
  }

  indexOf(name: string): i32 {
    const names = this.names;
    for (let i = 0, n = names.length; i < n; i++) {
      if (unchecked(names[i]) == name) return i;
    }
    return -1;
  }

  has(name: string): bool {
    return this.indexOf(name) >= 0;
  }

  get(name: string): string | null {
    const i = this.indexOf(name);
    return i < 0 ? null : unchecked(this.values[i]);
  }

  set(name: string, value: string): void {
    const i = this.indexOf(name);
    if (i < 0) {
      this.add(name, value);
      return;
    }
    this.values[i] = value;
    // Drop later duplicates so the header has exactly one value.
    for (let j = this.names.length - 1; j > i; j--) {
      if (unchecked(this.names[j]) == name) this.removeAt(j);
    }
  }

  remove(name: string): void {
    for (let j = this.names.length - 1; j >= 0; j--) {
      if (unchecked(this.names[j]) == name) this.removeAt(j);
    }
  }

  private removeAt(i: i32): void {
    removeAt(this.names, i);
    removeAt(this.values, i);
  }
}
