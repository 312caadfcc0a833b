/**
 * Value templates for header, path and authority actions.
 *
 * Syntax: literal text with `{{ expression }}` parts. An expression is a source followed by
 * optional `|filter`s. Whitespace around parts of an expression is ignored.
 *   sources: `header:<name>` (first value of a request header), `property:<a.b.c>` (an Envoy
 *            property, e.g. `property:connection.uri_san_peer_certificate`; a segment with
 *            dots goes in brackets, see property-key.ts), `model` (the body's
 *            model after rewrites; only after the body is read), `method`, `path`, `authority`.
 *   filters: `spiffe:<part>` (trust_domain | namespace | ns | service_account | sa | path, see
 *            spiffe.ts), `lower`, `upper`, `default:<text>` (use <text> when the value is
 *            missing).
 * Example: `tenant-{{property:connection.uri_san_peer_certificate|spiffe:namespace}}`.
 *
 * A missing value (absent header/property, no model, a SPIFFE part that is not there) makes
 * the whole template MISSING unless a later `default:` supplies one; the action using it is
 * then skipped, so a header is never set to a half-rendered value. `{{` always opens an
 * expression; a literal `{{` cannot be written (no header value needs one).
 *
 * API: `Template.compile(text): Template` (check `.error`, "" when valid); `uses(kind)`;
 * `template.render(ctx): string | null` (null = missing); `TemplateContext` is the abstract
 * lookup the rule engine passes (headers, properties, model).
 */
import { spiffePart, SPIFFE_PARTS } from "./spiffe";
import { isValidHeaderName } from "./header-name";
import { propertyKey } from "./property-key";

export enum SourceKind {
  Literal = 0,
  Header = 1,
  Property = 2,
  Model = 3,
  Method = 4,
  Path = 5,
  Authority = 6,
}

export enum FilterKind {
  Spiffe = 0,
  Lower = 1,
  Upper = 2,
  Default = 3,
}

/** What templates read. The rule engine implements it over the request. */
export abstract class TemplateContext {
  abstract header(name: string): string | null;
  /** `key` is a property path as produced by propertyKey (segments joined by NUL). */
  abstract property(key: string): string | null;
  abstract model(): string | null;
}

class Filter {
  constructor(
    public kind: FilterKind,
    public arg: string,
  ) {}
}

class Part {
  kind: SourceKind = SourceKind.Literal;
  /** Literal text, header name or property path. */
  arg: string = "";
  filters: Filter[] = [];
}

export class Template {
  error: string = "";
  readonly text: string;
  private parts: Part[] = [];

  private constructor(text: string) {
    this.text = text;
  }

  /** Adds literal text as a part (nothing for ""). */
  private addLiteral(text: string): void {
    if (text.length == 0) return;
    const p = new Part();
    p.arg = text;
    this.parts.push(p);
  }

  static compile(text: string): Template {
    const t = new Template(text);
    let i = 0;
    const n = text.length;
    let lit = "";
    while (i < n) {
      const open = text.indexOf("{{", i);
      if (open < 0) {
        lit += text.substring(i);
        break;
      }
      lit += text.substring(i, open);
      const close = text.indexOf("}}", open + 2);
      if (close < 0) {
        t.error = "unclosed \"{{\" at character " + open.toString();
        return t;
      }
      t.addLiteral(lit);
      lit = "";
      const part = parseExpression(text.substring(open + 2, close).trim());
      if (part == null) {
        t.error = parseError;
        return t;
      }
      t.parts.push(part);
      i = close + 2;
    }
    t.addLiteral(lit);
    return t;
  }

  /** Whether any expression reads `kind`. */
  uses(kind: SourceKind): bool {
    for (let i = 0; i < this.parts.length; i++) if (this.parts[i].kind == kind) return true;
    return false;
  }

  /** Literal text of the template when it has no expressions, else null. */
  isLiteral(): bool {
    for (let i = 0; i < this.parts.length; i++) if (this.parts[i].kind != SourceKind.Literal) return false;
    return true;
  }

  render(ctx: TemplateContext, method: string, path: string, authority: string): string | null {
    const parts = this.parts;
    if (parts.length == 1 && parts[0].kind == SourceKind.Literal) return parts[0].arg;
    let out = "";
    for (let i = 0, n = parts.length; i < n; i++) {
      const p = unchecked(parts[i]);
      let v: string | null = null;
      switch (p.kind) {
        case SourceKind.Literal:
          v = p.arg;
          break;
        case SourceKind.Header:
          v = ctx.header(p.arg);
          break;
        case SourceKind.Property:
          v = ctx.property(p.arg);
          break;
        case SourceKind.Model:
          v = ctx.model();
          break;
        case SourceKind.Method:
          v = method.length > 0 ? method : null;
          break;
        case SourceKind.Path:
          v = path.length > 0 ? path : null;
          break;
        default:
          v = authority.length > 0 ? authority : null;
          break;
      }
      for (let f = 0, fn = p.filters.length; f < fn; f++) {
        const filter = unchecked(p.filters[f]);
        if (filter.kind == FilterKind.Default) {
          if (v == null || v.length == 0) v = filter.arg;
          continue;
        }
        if (v == null) continue;
        if (filter.kind == FilterKind.Spiffe) v = spiffePart(v, filter.arg);
        else if (filter.kind == FilterKind.Lower) v = v.toLowerCase();
        else v = v.toUpperCase();
      }
      if (v == null) return null;
      out += v;
    }
    return out;
  }
}

let parseError = "";

/** Sources without an argument, in SourceKind order from Model. */
const NAMED_SOURCES = ["model", "method", "path", "authority"];

/** Records `<what> "<text>" in {{<expr>}} (<hint>)`; always null, for `return fail(...)`. */
function fail(what: string, text: string, expr: string, hint: string): Part | null {
  parseError = what + " \"" + text + "\" in {{" + expr + "}} (" + hint + ")";
  return null;
}

function parseExpression(expr: string): Part | null {
  const pieces = expr.split("|");
  const p = new Part();
  const source = pieces[0].trim();
  const named = NAMED_SOURCES.indexOf(source);
  if (named >= 0) p.kind = <SourceKind>(SourceKind.Model + named);
  else if (source.startsWith("header:")) {
    p.kind = SourceKind.Header;
    p.arg = source.substring(7).trim();
    if (!isValidHeaderName(p.arg) && !(p.arg.startsWith(":") && isValidHeaderName(p.arg.substring(1)))) {
      return fail("invalid header name", p.arg, expr, "lowercase token expected");
    }
  } else if (source.startsWith("property:")) {
    p.kind = SourceKind.Property;
    const path = source.substring(9).trim();
    const key = propertyKey(path);
    if (key == null) {
      return fail("invalid property path", path, expr, "e.g. source.address, filter_state[io.istio.peer_principal]");
    }
    p.arg = key;
  } else {
    return fail("unknown source", source, expr, "header:<name>, property:<path>, model, method, path, authority");
  }
  for (let i = 1; i < pieces.length; i++) {
    const f = pieces[i].trim();
    if (f == "lower") p.filters.push(new Filter(FilterKind.Lower, ""));
    else if (f == "upper") p.filters.push(new Filter(FilterKind.Upper, ""));
    else if (f.startsWith("default:")) p.filters.push(new Filter(FilterKind.Default, f.substring(8)));
    else if (f.startsWith("spiffe:")) {
      const part = f.substring(7).trim();
      if (!SPIFFE_PARTS.includes(part)) {
        return fail("unknown SPIFFE part", part, expr, SPIFFE_PARTS.join(", "));
      }
      p.filters.push(new Filter(FilterKind.Spiffe, part));
    } else {
      return fail("unknown filter", f, expr, "spiffe:<part>, lower, upper, default:<text>");
    }
  }
  return p;
}
