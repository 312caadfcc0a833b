// as-pect runs the pure AssemblyScript units (policy core and ABI encodings) with no proxy host.
export default {
  entries: ["assembly/**/*.spec.ts", "proxy-wasm/**/*.spec.ts", "runtime/**/*.spec.ts"],
  include: [],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
