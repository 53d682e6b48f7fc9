import { defineConfig } from 'vitest/config'

// Two projects: unit tests (in-memory, plus component tests that start their own service in a
// temp folder), and integration tests that share one local substrate (broker, registry,
// ClickHouse) started by the global setup; each integration test uses its own topics and group.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/integration/**'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 180_000,
          // The broker and ClickHouse are shared; two heavy files at once on two cores only add noise.
          fileParallelism: false,
        },
      },
    ],
  },
})
