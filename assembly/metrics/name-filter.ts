// `?name[]=` filters for a scrape path: Prometheus' Python client (prometheus_client's
// exposition apps, which vLLM and SGLang mount at /metrics) then writes only the named series,
// so a page of tens of KB shrinks to a few lines. Servers that do not know the parameter
// ignore it and send the whole page, which the reader handles the same way.

function hex(c: i32): string {
  const digits = "0123456789ABCDEF";
  return "%" + String.fromCharCode(digits.charCodeAt((c >> 4) & 15), digits.charCodeAt(c & 15));
}

/** Percent-encodes a metric name for a query value (names are ASCII: [a-zA-Z0-9_:]). */
export function encodeQueryValue(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    let plain = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c == 45 || c == 46;
    out += plain ? String.fromCharCode(c) : hex(c);
  }
  return out;
}

/** `path` with one `name[]=<name>` parameter per name (appended to an existing query). */
export function filteredPath(path: string, names: string[]): string {
  let out = path;
  let sep = path.indexOf("?") >= 0 ? "&" : "?";
  for (let i = 0; i < names.length; i++) {
    out += sep + "name%5B%5D=" + encodeQueryValue(names[i]);
    sep = "&";
  }
  return out;
}
