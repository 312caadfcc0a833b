/**
 * JSON values: the small document model plugin configuration is parsed into.
 *
 * API summary
 * - `JsonKind`: Null, Bool, Number, String, Array, Object.
 * - `JsonValue`: one node. Kind tests `isNull() isBool() isNumber() isString() isArray()
 *   isObject()`; `kindName()` gives the JSON Schema type name ("null", "boolean", "number",
 *   "string", "array", "object") for error messages.
 * - Scalars: `asBool()`, `asNumber(): f64`, `asString()`. Called on the wrong kind they return
 *   `false`, `NaN`, `""` (never trap); check the kind first when it matters.
 * - Arrays: `length`, `at(i): JsonValue | null` (null when out of range or not an array).
 * - Objects: `length` (member count), `keys(): string[]` (document order), `has(key)`,
 *   `get(key): JsonValue | null`, `keyAt(i)`, `valueAt(i)`.
 * - `offset`: byte offset (in the UTF-8 source) where the value starts, for diagnostics.
 *
 * Objects keep members in document order in two parallel arrays. Config objects are small, so a
 * linear `get` beats building a hash map per object. The parser decides what happens to
 * duplicate keys (see parse.ts); this model never holds two members with the same key.
 */

export enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

export class JsonValue {
  readonly kind: JsonKind;
  /** Byte offset of the first byte of this value in the UTF-8 source. */
  offset: i32 = 0;

  private boolValue: bool = false;
  private numberValue: f64 = 0;
  private stringValue: string = "";
  /** Array elements, or object member values (parallel to `memberKeys`). */
  private items: JsonValue[] | null = null;
  private memberKeys: string[] | null = null;

  private constructor(kind: JsonKind) {
    this.kind = kind;
  }

  static null(): JsonValue {
    return new JsonValue(JsonKind.Null);
  }

  static bool(value: bool): JsonValue {
    const v = new JsonValue(JsonKind.Bool);
    v.boolValue = value;
    return v;
  }

  static number(value: f64): JsonValue {
    const v = new JsonValue(JsonKind.Number);
    v.numberValue = value;
    return v;
  }

  static string(value: string): JsonValue {
    const v = new JsonValue(JsonKind.String);
    v.stringValue = value;
    return v;
  }

  static array(): JsonValue {
    const v = new JsonValue(JsonKind.Array);
    v.items = [];
    return v;
  }

  static object(): JsonValue {
    const v = new JsonValue(JsonKind.Object);
    v.items = [];
    v.memberKeys = [];
    return v;
  }

  isNull(): bool {
    return this.kind == JsonKind.Null;
  }
  isBool(): bool {
    return this.kind == JsonKind.Bool;
  }
  isNumber(): bool {
    return this.kind == JsonKind.Number;
  }
  isString(): bool {
    return this.kind == JsonKind.String;
  }
  isArray(): bool {
    return this.kind == JsonKind.Array;
  }
  isObject(): bool {
    return this.kind == JsonKind.Object;
  }

  /** JSON Schema type name of this value. */
  kindName(): string {
    switch (this.kind) {
      case JsonKind.Null:
        return "null";
      case JsonKind.Bool:
        return "boolean";
      case JsonKind.Number:
        return "number";
      case JsonKind.String:
        return "string";
      case JsonKind.Array:
        return "array";
      default:
        return "object";
    }
  }

  asBool(): bool {
    return this.kind == JsonKind.Bool ? this.boolValue : false;
  }

  asNumber(): f64 {
    return this.kind == JsonKind.Number ? this.numberValue : NaN;
  }

  asString(): string {
    return this.kind == JsonKind.String ? this.stringValue : "";
  }

  /** Element count of an array, member count of an object, 0 otherwise. */
  get length(): i32 {
    const items = this.items;
    return items == null ? 0 : items.length;
  }

  /** Array element `i`, or null when out of range or not an array. */
  at(i: i32): JsonValue | null {
    if (this.kind != JsonKind.Array) return null;
    const items = this.items!;
    if (i < 0 || i >= items.length) return null;
    return unchecked(items[i]);
  }

  /** Member value for `key`, or null when absent or not an object. */
  get(key: string): JsonValue | null {
    const i = this.indexOfKey(key);
    return i < 0 ? null : unchecked(this.items![i]);
  }

  has(key: string): bool {
    return this.indexOfKey(key) >= 0;
  }

  /** Member keys in document order (a copy); empty when not an object. */
  keys(): string[] {
    const keys = this.memberKeys;
    return keys == null ? [] : keys.slice(0);
  }

  /** Key of member `i` in document order, "" when out of range. */
  keyAt(i: i32): string {
    const keys = this.memberKeys;
    if (keys == null || i < 0 || i >= keys.length) return "";
    return unchecked(keys[i]);
  }

  /** Value of member `i` in document order, null when out of range. */
  valueAt(i: i32): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    const items = this.items!;
    if (i < 0 || i >= items.length) return null;
    return unchecked(items[i]);
  }

  /** Appends an array element. No-op on other kinds. */
  push(value: JsonValue): void {
    if (this.kind == JsonKind.Array) this.items!.push(value);
  }

  /** Sets an object member, replacing an existing one with the same key in place. */
  set(key: string, value: JsonValue): void {
    if (this.kind != JsonKind.Object) return;
    const i = this.indexOfKey(key);
    if (i >= 0) {
      this.items![i] = value;
    } else {
      this.memberKeys!.push(key);
      this.items!.push(value);
    }
  }

  /** Index of `key` among the members, -1 when absent or not an object. */
  indexOfKey(key: string): i32 {
    const keys = this.memberKeys;
    if (keys == null) return -1;
    for (let i = 0, n = keys.length; i < n; i++) {
      if (unchecked(keys[i]) == key) return i;
    }
    return -1;
  }
}
