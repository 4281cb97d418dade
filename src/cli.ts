import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describeCatalog, describeEscalation } from './config/describe-catalog.js';
import { CatalogError, loadCatalog } from './config/load-catalog.js';

const USAGE = `Usage: switchboard check [catalog.yml]

Validates a catalog and prints what it describes. Without a file it checks
$SWITCHBOARD_CONFIG, then ./switchboard.yml, then the bundled example.`;

async function firstExisting(files: string[]): Promise<string> {
  for (const file of files) {
    if (await access(file).then(() => true, () => false)) return file;
  }
  return files[0]!;
}

async function check(fileArg: string | undefined): Promise<number> {
  const file =
    fileArg ??
    process.env.SWITCHBOARD_CONFIG ??
    (await firstExisting(['./switchboard.yml', fileURLToPath(new URL('../examples/switchboard.yml', import.meta.url))]));
  try {
    const catalog = await loadCatalog(file, process.env);
    process.stdout.write(`${file} is valid.\n${describeCatalog(catalog)}\n${describeEscalation(catalog, new Date())}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CatalogError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'check') {
  process.exitCode = await check(rest[0]);
} else {
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = command === undefined || command === 'help' || command === '--help' ? 0 : 2;
}
