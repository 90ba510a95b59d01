// Default suite: unit, in-process API and localhost Ansible tests. Lab tests live in vitest.e2e.config.ts.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/api/**/*.test.ts', 'tests/ansible/**/*.test.ts', 'tests/contracts/**/*.test.ts', 'tests/docs/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['tests/support/global-log-check.ts'],
  },
})
