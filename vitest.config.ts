import { defineConfig } from 'vitest/config';

// The suite's timeouts live here, not on the npm script's command line, so `npx vitest` runs it as `npm test`
// does: real servers, NATS clusters and ONNX models start within them on a 2-core machine.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/support/vitest-setup.ts'],
  },
});
