// The section registry: every top-level plugin config key besides `logLevel`, in the order
// their stages run on each stream. Adding a section is one line here (see section.ts).

import { ConfigSection } from "./section";
import { HeadersSection } from "./stages/headers";

export const SECTIONS: ConfigSection[] = [
  new HeadersSection(), // "headers": static request/response header edits
];
