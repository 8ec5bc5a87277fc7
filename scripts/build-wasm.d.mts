/** Types of build-wasm.mjs (imported by src/index/wasm-kernels.test.ts). */
/** The text score-kernels.wasm.ts must hold for the current score-kernels.wat. */
export function assembledModuleSource(): Promise<string>;
