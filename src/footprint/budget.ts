/**
 * The size budget of the shipped wasm, kept in one place: `size-budget.json` at the repository
 * root, `{ "<file>": { "maxBytes": n } }`. The build refuses a module over its budget.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const BUDGET_FILE = "size-budget.json";

export interface SizeBudget {
  /** File relative to the repository root, e.g. "build/plugin.wasm". */
  file: string;
  maxBytes: number;
}

/** Reads every budget from `size-budget.json` under `repoRoot`. */
export function readBudgets(repoRoot: string): SizeBudget[] {
  const raw = JSON.parse(readFileSync(join(repoRoot, BUDGET_FILE), "utf8")) as Record<string, unknown>;
  const budgets: SizeBudget[] = [];
  for (const [file, entry] of Object.entries(raw)) {
    if (file.startsWith("$")) continue; // "$comment"
    const maxBytes = (entry as { maxBytes?: unknown } | null)?.maxBytes;
    if (typeof maxBytes !== "number" || !Number.isInteger(maxBytes) || maxBytes <= 0) {
      throw new Error(`${BUDGET_FILE}: "${file}".maxBytes must be a positive integer`);
    }
    budgets.push({ file, maxBytes });
  }
  return budgets;
}

/** Null when `bytes` fits `budget`; otherwise the message the build and the test print. */
export function checkBudget(budget: SizeBudget, bytes: number): string | null {
  if (bytes <= budget.maxBytes) return null;
  return (
    `${budget.file} is ${bytes} bytes, ${bytes - budget.maxBytes} over its budget of ${budget.maxBytes} bytes ` +
    `(${BUDGET_FILE}). See where the bytes go with \`npm run size\`; raise the budget in ${BUDGET_FILE} only ` +
    `for a feature worth the bytes, and say so in the commit.`
  );
}
