import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';

const APPROVED = fileURLToPath(new URL('../fixtures/screenshots/', import.meta.url));

/** `UPDATE_SCREENSHOTS=1` rewrites the approved images (and docs/sandbox.png) instead of comparing. */
export const updatingScreenshots = process.env.UPDATE_SCREENSHOTS === '1';

/**
 * Compares a screenshot with `test/fixtures/screenshots/<name>.png`. Anti-aliasing and font
 * hinting move a few pixels between runs, so up to `maxDiffRatio` of the pixels may differ;
 * a changed layout, colour or missing glyph moves far more. On a mismatch the actual image and
 * the diff are written next to each other in the temporary folder, named in the error.
 */
export async function expectScreenshot(name: string, png: Buffer, maxDiffRatio = 0.01): Promise<void> {
  const file = join(APPROVED, `${name}.png`);
  if (updatingScreenshots) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, png);
    return;
  }
  if (!existsSync(file)) throw new Error(`no approved screenshot ${file}: run UPDATE_SCREENSHOTS=1 npx vitest run test/e2e/sandbox-look.test.ts and look at it`);
  const actual = PNG.sync.read(png);
  const approved = PNG.sync.read(await readFile(file));
  if (actual.width !== approved.width || actual.height !== approved.height) {
    const saved = await saveActual(name, png);
    throw new Error(`${name}: ${actual.width}×${actual.height} instead of the approved ${approved.width}×${approved.height} (actual image: ${saved})`);
  }
  const diff = new PNG({ width: actual.width, height: actual.height });
  const differing = pixelmatch(actual.data, approved.data, diff.data, actual.width, actual.height, { threshold: 0.1 });
  const ratio = differing / (actual.width * actual.height);
  if (ratio > maxDiffRatio) {
    const saved = await saveActual(name, png);
    await writeFile(saved.replace(/\.png$/, '.diff.png'), PNG.sync.write(diff));
    throw new Error(`${name}: ${(ratio * 100).toFixed(2)}% of the pixels differ from the approved image (at most ${maxDiffRatio * 100}%); actual image and diff: ${saved}`);
  }
}

async function saveActual(name: string, png: Buffer): Promise<string> {
  const file = join(tmpdir(), `switchboard-screenshot-${name}-${process.pid}.png`);
  await writeFile(file, png);
  return file;
}
