/**
 * Rule data: what a rule matches and what it does. Built by rules-config.ts, evaluated by
 * engine.ts. Plain data, no host calls.
 *
 * A rule matches when EVERY condition it lists holds (path, methods, authority, each header
 * condition, each property condition, models). An empty match matches every request.
 */
import { PathPattern } from "./path-pattern";
import { Cidr } from "./cidr";
import { Template } from "./template";

export enum ValueMatchKind {
  Exact = 0,
  Prefix = 1,
  Suffix = 2,
  Present = 3,
  Absent = 4,
  Cidr = 5,
}

/** A condition on one string value (header, property or authority). */
export class ValueCondition {
  /** Header name, or property key (propertyKey: segments joined by NUL); "" for authority. */
  key: string = "";
  kind: ValueMatchKind = ValueMatchKind.Present;
  value: string = "";
  cidrs: Cidr[] = [];
}

export class RuleMatch {
  path: PathPattern | null = null;
  /** Uppercase methods; empty means any. */
  methods: string[] = [];
  authority: ValueCondition | null = null;
  headers: ValueCondition[] = [];
  properties: ValueCondition[] = [];
  /** Exact model names (after body routing's rewrite); empty means any. */
  models: string[] = [];
}

export enum HeaderActionKind {
  Set = 0,
  Append = 1,
  Remove = 2,
  Rename = 3,
}

export class HeaderAction {
  kind: HeaderActionKind = HeaderActionKind.Set;
  name: string = "";
  /** Set/Append: the value template. */
  template: Template | null = null;
  /** Rename: the new name. */
  newName: string = "";
}

export class PathPrefixRewrite {
  constructor(
    public prefix: string,
    public replacement: string,
  ) {}
}

export class Rule {
  /** From the config (`name`), or `rules[i]`; used in logs and metrics. */
  name: string = "";
  match: RuleMatch = new RuleMatch();
  /** Request header actions in the order they apply: remove, rename, set, append. */
  request: HeaderAction[] = [];
  pathRewrite: PathPrefixRewrite | null = null;
  authority: Template | null = null;
  /** Response header actions, rendered at request time, applied to the response. */
  response: HeaderAction[] = [];
  /** True when the rule matches on or renders the model: it runs after the body is read. */
  needsBody: bool = false;
}
