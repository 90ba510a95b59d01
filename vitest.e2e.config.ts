// Lab suite: real servers in network namespaces (tests/lab) and the whole system through the API (tests/e2e).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/lab/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    pool: 'forks',
    // Order matters: the log check starts collecting before the e2e setup's control plane writes its first line.
    globalSetup: ['tests/support/global-log-check.ts', 'tests/support/e2e-global-setup.ts'],
  },
})
