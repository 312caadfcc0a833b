/** Plugin config validation: JSON Schema plus the plugin's own verdict (`wayroute validate`). */
export { validateConfig, pluginRefusal, findPluginWasm, PluginNotFoundError, type ConfigValidation } from "./validate.js";
