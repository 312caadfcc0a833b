/**
 * llm-d's Endpoint Picker (EPP) run without Kubernetes: its `file-discovery` plugin reads an
 * endpoints file (llm-d-router docs/discovery.md). The scheduling config is the EPP's own default
 * (llm-d-router pkg/epp/config/loader/defaults.go: queue scorer 2, KV-cache utilization scorer 2,
 * prefix-cache scorer 3, max-score picker, the metrics data source) with only the discovery plugin
 * added, so the EPP schedules exactly as it does when given no config.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PeerProcess, httpText, tcpOpen } from "./process.js";
import { parseProm, sumOf, type PromSample } from "./prom.js";

/** The endpoints file the file-discovery plugin reads (YAML is a superset of JSON). */
export function eppEndpointsFile(endpoints: string[]): string {
  return JSON.stringify({
    endpoints: endpoints.map((a, i) => {
      const c = a.lastIndexOf(":");
      return { name: `sim-${i}`, address: a.slice(0, c), port: a.slice(c + 1) };
    }),
  }, null, 2) + "\n";
}

/**
 * The EPP config: its default profile plus file discovery of `endpointsPath`. With `flowControl`
 * the `flowControl` feature gate is on: file-discovery mode then builds the flow controller
 * (llm-d-router cmd/epp/runner/runner.go initAdmissionControl) with its default bands, FCFS
 * ordering and utilization detector, and round-robin fairness across the flows of a band (the
 * `x-llm-d-inference-fairness-id` header), which must be named: the registry's default fairness
 * policy is global-strict (pkg/epp/flowcontrol/registry/config.go), which orders a band's flows
 * by their heads, not by turns.
 */
export function eppConfig(endpointsPath: string, opts: { flowControl?: boolean } = {}): string {
  const cfg = {
    apiVersion: "inference.networking.x-k8s.io/v1alpha1",
    kind: "EndpointPickerConfig",
    ...(opts.flowControl ? { featureGates: ["flowControl"] } : {}),
    plugins: [
      { name: "file-discovery", type: "file-discovery", parameters: { path: endpointsPath, watchFile: false } },
      { type: "queue-scorer" },
      { type: "kv-cache-utilization-scorer" },
      { type: "prefix-cache-scorer" },
      { type: "metrics-data-source" },
      { type: "core-metrics-extractor" },
      ...(opts.flowControl ? [{ type: EPP_FAIRNESS_POLICY }] : []),
    ],
    ...(opts.flowControl ? { flowControl: { defaultPriorityBand: { fairnessPolicyRef: EPP_FAIRNESS_POLICY } } } : {}),
    schedulingProfiles: [{
      name: "default",
      plugins: [
        { pluginRef: "queue-scorer", weight: 2 },
        { pluginRef: "kv-cache-utilization-scorer", weight: 2 },
        { pluginRef: "prefix-cache-scorer", weight: 3 },
      ],
    }],
    dataLayer: {
      discovery: { pluginRef: "file-discovery" },
      sources: [{ pluginRef: "metrics-data-source", extractors: [{ pluginRef: "core-metrics-extractor" }] }],
    },
  };
  return JSON.stringify(cfg, null, 2) + "\n";
}

/** The EPP's round-robin fairness policy (its plugin type; the instance takes the same name). */
export const EPP_FAIRNESS_POLICY = "round-robin-fairness-policy";

export interface EppPorts {
  grpc: number;
  health: number;
  metrics: number;
}

/** Starts the EPP on loopback ports with the default profile over `endpoints` (and flow control when asked); resolves when it serves. */
export async function startEpp(binary: string, dir: string, endpoints: string[], ports: EppPorts, opts: { flowControl?: boolean; timeoutMs?: number } = {}): Promise<PeerProcess> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const endpointsPath = join(dir, "epp-endpoints.yaml");
  const configPath = join(dir, "epp-config.yaml");
  writeFileSync(endpointsPath, eppEndpointsFile(endpoints));
  writeFileSync(configPath, eppConfig(endpointsPath, { flowControl: opts.flowControl === true }));
  const epp = new PeerProcess({
    name: "epp",
    command: binary,
    args: [
      "--pool-name", "bench", "--pool-namespace", "bench",
      "--config-file", configPath,
      "--grpc-port", String(ports.grpc), "--grpc-health-port", String(ports.health), "--metrics-port", String(ports.metrics),
      // Loopback only and no Kubernetes: plain gRPC, no token review on /metrics, no trace export.
      "--secure-serving=false", "--metrics-endpoint-auth=false", "--tracing=false",
      "--zap-encoder", "json", "-v", "1",
    ],
  });
  epp.start();
  try {
    await epp.waitReady(async () => (await tcpOpen(`127.0.0.1:${ports.grpc}`)) && (await httpText(`127.0.0.1:${ports.metrics}`, "/metrics")) !== undefined, timeoutMs);
  } catch (err) {
    await epp.stop();
    throw err;
  }
  return epp;
}

/** What the EPP's own metrics say it did. */
export interface EppCounters {
  /** Requests the EPP received (llm_d_epp_request_total, or its GIE name, summed). */
  requests?: number;
  /** Scheduling attempts that picked an endpoint (llm_d_epp_scheduler_attempts_total{status="success"}). */
  scheduled?: number;
  /** Successful picks per endpoint port (the same counter, by its `port` label). */
  pickedByPort?: Record<string, number>;
  /** Requests that passed through the flow-control layer (its queue-duration histogram's count); flow control on only. */
  flowQueued?: number;
  /** Their total time in that layer, enqueue to outcome (the histogram's sum, seconds). */
  flowQueueSeconds?: number;
  /** flowQueued by the flow the EPP put each request in (its `fairness_id` label). */
  flowQueuedByFlow?: Record<string, number>;
}

const FLOW_QUEUE_COUNT = ["llm_d_epp_flow_control_request_queue_duration_seconds_count", "inference_extension_flow_control_request_queue_duration_seconds_count"];

/** Reads the counters above from an EPP `/metrics` page. */
export function eppCounters(samples: PromSample[]): EppCounters {
  const out: EppCounters = {};
  const requests = sumOf(samples, ["llm_d_epp_request_total", "inference_objective_request_total"]);
  if (requests !== undefined) out.requests = requests;
  // v0.9 exports each series under its new llm_d_epp_* name and its old GIE name.
  const attempts = ["llm_d_epp_scheduler_attempts_total", "inference_extension_scheduler_attempts_total"].find((n) => samples.some((s) => s.name === n));
  if (attempts) {
    let scheduled = 0;
    const byPort: Record<string, number> = {};
    for (const s of samples) {
      if (s.name !== attempts || s.labels.status !== "success") continue;
      scheduled += s.value;
      if (s.labels.port) byPort[s.labels.port] = (byPort[s.labels.port] ?? 0) + s.value;
    }
    out.scheduled = scheduled;
    out.pickedByPort = byPort;
  }
  // Exported only when the flowControl feature gate is on (v0.9 also has the GIE name).
  const queued = sumOf(samples, FLOW_QUEUE_COUNT);
  if (queued !== undefined) out.flowQueued = queued;
  const queuedS = sumOf(samples, ["llm_d_epp_flow_control_request_queue_duration_seconds_sum", "inference_extension_flow_control_request_queue_duration_seconds_sum"]);
  if (queuedS !== undefined) out.flowQueueSeconds = queuedS;
  const queueName = FLOW_QUEUE_COUNT.find((n) => samples.some((x) => x.name === n));
  if (queueName) {
    const byFlow: Record<string, number> = {};
    for (const x of samples) {
      if (x.name !== queueName) continue;
      const id = x.labels.fairness_id ?? "";
      byFlow[id] = (byFlow[id] ?? 0) + x.value;
    }
    out.flowQueuedByFlow = byFlow;
  }
  return out;
}

/** Scrapes the EPP's metrics port. */
export async function scrapeEpp(metricsAddress: string): Promise<EppCounters | undefined> {
  const text = await httpText(metricsAddress, "/metrics");
  return text === undefined ? undefined : eppCounters(parseProm(text));
}
