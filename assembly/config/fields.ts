// Declared config fields: the vocabulary of the field tables that ConfigReader.readFields reads.
//
// An object's fields are declared once, in the file that owns the object: its JSON keys as one
// string of names separated by blanks (in the order they are read; also the list an unknown key
// is refused with), and one row of four numbers per key in `memory.data`: kind (+ flags), the
// target field's offset (`offsetof<T>("field")`), and min and max for numbers. Both are static
// data and need no code: one loop (ConfigReader.readFields) checks and stores every field.
// An absent key leaves the target field as its initializer set it: the class declares defaults.
//
//   const FEED_KEYS = "cluster path intervalMs";
//   const FEED_FIELDS = memory.data<f64>([
//     STRING + REQUIRED + NON_EMPTY, offsetof<EndpointFeed>("cluster"), 0, 0,
//     PATH, offsetof<EndpointFeed>("path"), 0, 0,
//     INT64, offsetof<EndpointFeed>("intervalMs"), 100, 3_600_000,
//   ]);
//   r.readObject(node, feed, FEED_KEYS, FEED_FIELDS);
//
// Refusals come from the reader's shared templates plus the field's JSON path (`expected
// integer, got string`, `must be between 1 and 8, got 9`, `must not be empty`, ...), so they read
// the same for every object. ENUM choices are one string of names too ("endpoint route").

/** Columns per row: kind + flags, offset, min, max. */
export const ROW: i32 = 4;

// ---- kinds (the low four bits of a row's first column; readFields tests ranges: integers
// first, the choices last) ----

/** The caller reads this key itself: readFields stops before it and returns its index. */
export const CUSTOM: f64 = 0;
/** An integer in [min, max], stored as i32. */
export const INT32: f64 = 1;
/** An integer in [min, max], stored as i64. */
export const INT64: f64 = 2;
/** A number in [min, max], stored as f64. */
export const NUMBER: f64 = 3;
/** true or false, stored as bool. */
export const BOOL: f64 = 4;
/** Any string. */
export const STRING: f64 = 5;
/** A string starting with "/" (a URL path). */
export const PATH: f64 = 6;
/** A header name: a non-empty lower-case RFC 7230 token. */
export const HEADER: f64 = 7;
/** One of the choices readFields is given, stored as its index (i32). */
export const ENUM: f64 = 8;
/** One of two choices, stored as a bool: true for the second. */
export const ENUM_BOOL: f64 = 9;

// ---- flags (added to the kind) ----

/** Absent is refused ("required field is missing"). */
export const REQUIRED: f64 = 16;
/** An empty string is refused ("must not be empty"). */
export const NON_EMPTY: f64 = 32;
/** The caller checks this field next: readFields returns just after it. */
export const CHECKED: f64 = 64;

/** Kind bits of a row's first column. */
export const KIND_MASK: i32 = 15;
