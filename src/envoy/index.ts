/**
 * Real Envoy for wayroute: find the binary, check a bootstrap with Envoy's own validator, run
 * Envoy with a bootstrap and stop it reliably.
 */
export { EnvoyError, type EnvoyErrorCode } from "./errors.js";
export { ENVOY_INSTALL_COMMAND, ENVOY_VERSION, type EnvoyBinary, type EnvoySource, envoyVersion, findEnvoy, tryFindEnvoy } from "./locate.js";
export { type Bootstrap, writeBootstrap } from "./bootstrap-file.js";
export { type ValidationResult, assertValidBootstrap, validateBootstrap } from "./validate.js";
export { type AdminResponse, type EnvoyExit, type EnvoyListener, EnvoyProcess, type EnvoyStartOptions, httpText } from "./process.js";
export { type StandaloneOptions, pointConfigAt, standaloneBootstrap } from "./standalone.js";
export { envoyPolicyProxy } from "./policy-proxy.js";
