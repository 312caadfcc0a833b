/**
 * Errors the harness throws. Each has a stable `code` and a message naming the cause and the fix.
 * A plugin misbehaving at run time (trap, refused configuration) is NOT thrown into the test:
 * it is reported on the host (`host.traps`, `host.configured`) the way Envoy reports it.
 */

/** Base class of every harness error. */
export class HostError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The module exports no proxy-wasm ABI marker. */
export class AbiVersionError extends HostError {
  constructor(message: string) {
    super(message, "E_ABI_VERSION");
  }
}

/**
 * The module imports something Envoy does not provide. Envoy refuses such a module with
 * "Failed to load Wasm module due to a missing import: <module>.<name>".
 */
export class LinkError extends HostError {
  constructor(
    readonly missing: readonly string[],
    message?: string,
  ) {
    super(
      message ??
        `Failed to load Wasm module due to a missing import: ${missing.join(", ")}. ` +
          "Envoy links only env.proxy_* of the module's ABI version, WASI " +
          "(wasi_snapshot_preview1 / wasi_unstable), env.emscripten_notify_memory_growth and " +
          "env.pthread_equal; remove the import or provide it in the plugin",
      "E_LINK_MISSING_IMPORT",
    );
  }
}

/** The module bytes are not valid WebAssembly, or the path could not be read. */
export class ModuleLoadError extends HostError {
  constructor(message: string) {
    super(message, "E_MODULE_LOAD");
  }
}

/** The plugin failed while starting (`_initialize`/`_start`, `proxy_on_vm_start`). */
export class VmStartError extends HostError {
  constructor(message: string) {
    super(message, "E_VM_START");
  }
}

/** A harness API was used in a way that cannot work (e.g. unknown worker index). */
export class HarnessUsageError extends HostError {
  constructor(message: string) {
    super(message, "E_HARNESS_USAGE");
  }
}
