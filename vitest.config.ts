import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A private temp dir per run, checked for leftovers and removed at the end.
    globalSetup: ["test/setup/temp-dir.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: keep file-level parallelism modest so network tests are not starved.
    maxWorkers: 2,
    // The JSON report lets CI print one plain "N passed, N failed" line at the end.
    reporters: ["default", "json"],
    outputFile: { json: ".tmp/vitest-report.json" },
  },
});
