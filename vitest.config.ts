import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds dist/ first: the tests run the built runtime, which must be the sources as they are now.
    globalSetup: ["test/support/build-first.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Tests that start real processes (claude, dockerd) share one machine of 2 cores.
    maxWorkers: 2,
  },
});
