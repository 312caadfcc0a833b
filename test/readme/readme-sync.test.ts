import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const readme = readFileSync("README.md", "utf8");

/** The first ```ts block after a heading. */
function codeAfter(heading: string, lang: string): string {
  const at = readme.indexOf(heading);
  expect(at, `README has no "${heading}"`).toBeGreaterThanOrEqual(0);
  return readme.slice(at).split("```" + lang + "\n")[1]!.split("```")[0]!;
}

describe("README stays true", () => {
  it("the harness example is the one test/readme/harness-example.test.ts runs", () => {
    const block = codeAfter("## Testing plugins with the harness", "ts");
    const file = readFileSync("test/readme/harness-example.test.ts", "utf8").split("\n").slice(1).join("\n");
    const asUser = file.replace('from "../../src/index.js"', 'from "wayroute"').replace('"build/plugin.wasm"', '"node_modules/wayroute/build/plugin.wasm"');
    expect(asUser).toBe(block);
  });

  it("the quick start is npm install + npm start, and npm test", () => {
    const block = codeAfter("## Quick start", "sh");
    expect(block).toMatch(/^npm install && npm start\s/m);
    expect(block).toMatch(/^npm test\s/m);
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.scripts.start).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
    expect(readFileSync(".ci/run", "utf8")).toMatch(/^npm test$/m);
  });

  it("the scenario example is a valid scenario", async () => {
    const { scenarioProblems } = await import("../../src/scenario/index.js");
    const block = codeAfter("## Scenarios", "json");
    expect(scenarioProblems(JSON.parse(block))).toEqual([]);
  });

  it("every command in the table exists", async () => {
    const { commands } = await import("../../src/cli/commands/index.js");
    const table = readme.slice(readme.indexOf("## Command line"), readme.indexOf("## Repository layout"));
    const named = [...table.matchAll(/^\| `([a-z]+)`(?:, `([a-z]+)`)?(?:, `([a-z]+)`)? \|/gm)].flatMap((m) => m.slice(1).filter(Boolean));
    expect(named.length).toBeGreaterThan(5);
    for (const name of named) expect(commands.map((c) => c.name), name).toContain(name);
  });
});
