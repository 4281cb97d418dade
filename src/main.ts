import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CatalogError, loadCatalog } from './config/load-catalog.js';
import { EnvError, parseEnv } from './config/env.js';
import { createLogger } from './app/logger.js';
import { startSwitchboard } from './app/switchboard.js';
import { DataDirInUseError } from './store/data-dir-lock.js';

const EXAMPLE_CATALOG = fileURLToPath(new URL('../examples/switchboard.yml', import.meta.url));
const DEFAULT_CATALOG = './switchboard.yml';

async function main(): Promise<void> {
  let env;
  try {
    env = parseEnv(process.env);
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`${error.message}\nFix these variables and start again.\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: env.LOG_LEVEL });

  // With no catalog of their own, newcomers start on the example one describing the five sample systems.
  let catalogFile = env.SWITCHBOARD_CONFIG;
  if (catalogFile === DEFAULT_CATALOG && !process.env.SWITCHBOARD_CONFIG && !(await exists(catalogFile))) {
    logger.info({ catalog: EXAMPLE_CATALOG }, 'no ./switchboard.yml: using the example catalog (set SWITCHBOARD_CONFIG to use yours)');
    catalogFile = EXAMPLE_CATALOG;
  }
  let catalog;
  try {
    catalog = await loadCatalog(catalogFile, process.env);
  } catch (error) {
    if (error instanceof CatalogError) {
      logger.fatal({ catalog: error.file, problems: error.problems }, 'invalid catalog');
      process.stderr.write(`${error.message}\nRun \`npm run check -- ${error.file}\` after fixing them.\n`);
      process.exit(1);
    }
    throw error;
  }

  const switchboard = await startSwitchboard({ env, catalog, logger, processEnv: process.env });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'signal received');
      switchboard.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

main().catch((error: unknown) => {
  if (error instanceof DataDirInUseError) {
    process.stderr.write(`Switchboard could not start: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`Switchboard could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
