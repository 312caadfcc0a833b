// Bundles the TypeScript side with esbuild (the published package has no runtime dependencies)
// and emits type declarations for the public API with tsc.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: { index: "src/index.ts", cli: "src/cli.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  splitting: true,
  // Keep heavy build-only tools out of the bundle; they are loaded lazily where needed.
  external: ["assemblyscript", "assemblyscript/*", "wabt", "@bytecodealliance/jco", "esbuild", "playwright-core"],
  // Bundled CommonJS dependencies may call require(); give ESM output one.
  banner: { js: "import { createRequire as __wrCreateRequire } from 'node:module'; const require = __wrCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
// The same public API as CommonJS, for `require("wayroute")` on every Node the package supports
// (require() of an ES module needs Node 20.19+ and no top-level await). import.meta.url, which the
// code uses to find the package's own files, becomes this file's URL.
await build({
  entryPoints: { index: "src/index.ts" },
  outExtension: { ".js": ".cjs" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: false,
  external: ["assemblyscript", "assemblyscript/*", "wabt", "@bytecodealliance/jco", "esbuild", "playwright-core"],
  define: { "import.meta.url": "__wrImportMetaUrl" },
  banner: { js: "const __wrImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: "warning",
});
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
console.log("built dist/index.js, dist/index.cjs, dist/cli.js and dist/types/");
