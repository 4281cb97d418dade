import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const GOLDEN_DIR = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

/** Compares with `test/fixtures/golden/<name>.json`; `UPDATE_GOLDEN=1` rewrites the file instead, for review. */
export function expectGolden(name: string, value: unknown): void {
  const file = join(GOLDEN_DIR, `${name}.json`);
  const json = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, json);
    return;
  }
  if (!existsSync(file)) throw new Error(`no golden file ${file}: run UPDATE_GOLDEN=1 npx vitest run <this test file> and review it`);
  expect(json).toBe(readFileSync(file, 'utf8'));
}
