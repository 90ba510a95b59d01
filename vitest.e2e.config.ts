// Lab suite: real servers in network namespaces (tests/lab) and the whole system through the API (tests/e2e).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/lab/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    pool: 'forks',
    globalSetup: ['tests/support/global-log-check.ts'],
  },
})
