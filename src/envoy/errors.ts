/** Failures of the Envoy tooling, each with a stable code and a one-line message naming the fix. */
export type EnvoyErrorCode =
  /** No Envoy binary found, or the one named is not Envoy. */
  | "E_ENVOY_MISSING"
  /** Envoy exited or never became ready. */
  | "E_ENVOY_START"
  /** A bootstrap that cannot work was asked for (refused before Envoy starts). */
  | "E_ENVOY_CONFIG";

export class EnvoyError extends Error {
  constructor(
    readonly code: EnvoyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "EnvoyError";
  }
}
