/**
 * Where the real services for integration tests live. The run's global setup
 * (test/setup/global-setup.ts) sets both: to what DATABASE_URL / REDIS_URL say, to the default
 * addresses, or to servers it started itself.
 */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
