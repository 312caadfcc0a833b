// The section registry: every top-level plugin config key besides `logLevel`, in the order
// their stages run on each stream. Adding a section is one line here (see section.ts).

import { ConfigSection } from "./section";
import { HeadersSection } from "./stages/headers";
import { RulesSection } from "./stages/rules";
import { BodyRoutingSection } from "./stages/body-routing";
import { PoolsSection } from "./picker-stage";

export const SECTIONS: ConfigSection[] = [
  new HeadersSection(), // "headers": static request/response header edits
  new RulesSection(), // "rules": matched header/path/authority rewrites (assembly/rewrite)
  new BodyRoutingSection(), // "bodyRouting": model from the JSON body, weighted model rewrites
  new PoolsSection(), // "pools": inference-aware endpoint picker (assembly/pools, assembly/scheduling)
];
