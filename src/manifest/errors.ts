/** Errors raised while generating manifests; `code` is stable, the message names the field. */
export class ManifestError extends Error {
  constructor(
    readonly code: ManifestErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ManifestError";
  }
}

export type ManifestErrorCode =
  | "E_BAD_NAME"
  | "E_BAD_CONFIG"
  | "E_CONFIG_SCHEMA"
  | "E_CRD_SCHEMA"
  | "E_BAD_OPTION"
  | "E_SCHEMAS_MISSING";
