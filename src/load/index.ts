/** Load generator: workloads, a streaming client, the runner and summaries. */
export { runLoad, type RunLoadOptions, type LoadRun } from "./runner.js";
export { summarize, quantile, type LoadSummary, type ClassSummary, type ContentionWindow, type WindowShare } from "./summary.js";
export { chatCall, type RequestRecord, type ChatResult } from "./client.js";
export { defaultWorkloads, plannedRequests, contentionWindow, FAIRNESS_HEADER, LOAD_LIMITS, SESSION_HEADER, type Workload, type SharedPrefixWorkload, type UniqueWorkload, type OverloadWorkload, type MultiLoraWorkload, type BurstyTenantsWorkload, type RequestClass } from "./workload.js";
export { Rng, fillerText } from "./random.js";
