/**
 * JSON syntax errors with a line and column. `JSON.parse` names only a character offset
 * ("… in JSON at position 812"), which nobody can find in an editor.
 */

/** 1-based line and column of character `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split("\n");
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/**
 * The offset of the first character at which `text` stops being JSON (RFC 8259), or -1 when it is
 * valid. Engines do not always say where (V8: `Unexpected token ']', "[1,2,]" is not valid JSON`),
 * so the position is found by this small recursive-descent scan instead of read from the message.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i++] !== ch) (i--, fail());
  };
  const digits = () => {
    if (!/[0-9]/.test(text[i] ?? "")) fail();
    while (/[0-9]/.test(text[i] ?? "")) i++;
  };
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else digits();
    if (text[i] === ".") (i++, digits());
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits();
    }
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      const ch = text[i];
      if (ch === undefined || ch < " ") fail();
      if (ch === '"') return void i++;
      if (ch === "\\") {
        i++;
        if (text[i] === "u") {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) (i += k, fail());
          i += 5;
        } else if ('"\\/bfnrt'.includes(text[i] ?? "x")) i++;
        else fail();
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return void i++;
        else fail();
      }
    }
    if (ch === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return void i++;
        else fail();
      }
    }
    if (ch === '"') return string();
    if (ch === "t") return literal("true");
    if (ch === "f") return literal("false");
    if (ch === "n") return literal("null");
    if (ch === "-" || /[0-9]/.test(ch ?? "")) return number();
    fail();
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    if (typeof at === "number") return at;
    throw at;
  }
}

/**
 * Describes a `JSON.parse` failure of `text` as `line L, column C: <reason>`, the engine's reason
 * without its offset or its quote of the input.
 */
export function describeJsonSyntaxError(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const found = jsonErrorOffset(text);
  const offset = found >= 0 ? found : text.length;
  const reason = message
    .replace(/\s*(in JSON )?at position \d+( \(line \d+ column \d+\))?/, "")
    .replace(/, (\.\.\.)?"[\s\S]*" is not valid JSON$/, "")
    .trim();
  const { line, column } = lineColumn(text, offset);
  return `line ${line}, column ${column}: ${reason || "not valid JSON"}`;
}

/** `JSON.parse`, throwing a `SyntaxError` whose message is {@link describeJsonSyntaxError}'s. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(describeJsonSyntaxError(text, err));
  }
}
