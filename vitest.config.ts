import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and processes; a few files at a time keeps the machine responsive.
    maxWorkers: 4,
    // Provisions PostgreSQL and Redis, finds the programs tests need, and checks that the run wrote
    // nothing to the project or the app's data folder (test/setup/global-setup.ts).
    globalSetup: ['./test/setup/global-setup.ts'],
  },
});
