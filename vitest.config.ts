import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds of fixture sites and the real model take seconds, not milliseconds.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // Fixture builds are CPU-heavy; running them side by side on two cores only slows both.
    fileParallelism: false,
  },
});
