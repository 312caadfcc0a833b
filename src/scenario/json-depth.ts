/**
 * How deeply a JSON text nests, found without parsing it recursively. Schema validators and
 * `JSON.stringify` recurse per level, so a few thousand levels overflow the stack; scenarios are
 * refused above {@link MAX_JSON_DEPTH} before anything recursive sees them.
 */

/** Deepest nesting a scenario (plugin config and properties included) may have. */
export const MAX_JSON_DEPTH = 64;

/** The maximum depth of `[`/`{` nesting in `text`, ignoring brackets inside strings. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** The maximum nesting depth of an already-parsed value, iteratively. */
export function valueDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object" || v instanceof Uint8Array) continue;
    const here = d + 1;
    if (here > max) max = here;
    if (here > MAX_JSON_DEPTH) return here;
    for (const child of Object.values(v)) stack.push([child, here]);
  }
  return max;
}
