/**
 * Errors raised by the OCI packaging and registry code. Each has a stable `code` and a message
 * that names the cause and, where there is one, the fix.
 */
export class OciError extends Error {
  constructor(
    readonly code: OciErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "OciError";
  }
}

/** Stable error codes; tests and callers switch on these, never on message text. */
export type OciErrorCode =
  | "E_NOT_WASM"
  | "E_BAD_REFERENCE"
  | "E_BAD_LAYOUT"
  | "E_BAD_IMAGE"
  | "E_DIGEST_MISMATCH"
  | "E_AUTH"
  | "E_UNREACHABLE"
  | "E_INSECURE"
  | "E_REGISTRY"
  | "E_NOT_FOUND"
  | "E_TOO_LARGE"
  | "E_EXISTS";

/**
 * Any error a wayroute library module raises on purpose carries a string `code` (`E_…`); the CLI
 * turns those into one-line failures (exit 1) and lets everything else surface as internal errors.
 */
export function isCodedError(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "string" && /^E_[A-Z_]+$/.test((err as unknown as { code: string }).code);
}
