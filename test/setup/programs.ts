import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program some tests run, where to look for it, and how to install it. */
export interface ProgramSpec {
  /** The names tried on PATH and in the well-known folders, in order. */
  commands: string[];
  /** Set to a path, the variable decides alone: a wrong path means the program is missing. */
  envVar: string;
  /** Extra places to look beyond PATH and the usual bin folders (absolute files, or folders ending in `/`). */
  places?: () => string[];
  apt: string;
  brew: string;
}

/** Folders where package managers put programs, searched after PATH (which tests may run with trimmed). */
const BIN_FOLDERS = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin', '/opt/homebrew/bin', '/opt/homebrew/sbin'];

/** `/usr/lib/postgresql/<major>/bin/` (Debian) and Homebrew's libpq/postgresql, newest major first. */
function postgresClientFolders(): string[] {
  const versions = (root: string, prefix = '') =>
    safeReaddir(root)
      .filter((name) => name.startsWith(prefix))
      .sort((a, b) => Number(b.slice(prefix.length)) - Number(a.slice(prefix.length)))
      .map((name) => `${join(root, name, 'bin')}/`);
  return [
    ...versions('/usr/lib/postgresql'),
    '/opt/homebrew/opt/libpq/bin/',
    '/usr/local/opt/libpq/bin/',
    ...versions('/opt/homebrew/opt', 'postgresql@'),
    ...versions('/usr/local/opt', 'postgresql@'),
    '/Applications/Postgres.app/Contents/Versions/latest/bin/',
  ];
}

const pgClient = (command: string, envVar: string): ProgramSpec => ({
  commands: [command],
  envVar,
  places: postgresClientFolders,
  apt: 'postgresql-client',
  brew: 'libpq',
});

/**
 * Every program a test may need, by the name tests ask for (`requires('alertmanager')`). Add a
 * program here, with its install packages, before a test asks for it.
 */
export const PROGRAMS = {
  'redis-server': { commands: ['redis-server'], envVar: 'REDIS_SERVER_PATH', apt: 'redis-server', brew: 'redis' },
  supervisord: { commands: ['supervisord'], envVar: 'SUPERVISORD_PATH', apt: 'supervisor', brew: 'supervisor' },
  supervisorctl: { commands: ['supervisorctl'], envVar: 'SUPERVISORCTL_PATH', apt: 'supervisor', brew: 'supervisor' },
  prometheus: { commands: ['prometheus'], envVar: 'PROMETHEUS_PATH', apt: 'prometheus', brew: 'prometheus' },
  promtool: { commands: ['promtool'], envVar: 'PROMTOOL_PATH', apt: 'prometheus', brew: 'prometheus' },
  alertmanager: { commands: ['prometheus-alertmanager', 'alertmanager'], envVar: 'ALERTMANAGER_PATH', apt: 'prometheus-alertmanager', brew: 'alertmanager' },
  pg_dump: pgClient('pg_dump', 'PG_DUMP_PATH'),
  pg_restore: pgClient('pg_restore', 'PG_RESTORE_PATH'),
  psql: pgClient('psql', 'PSQL_PATH'),
  chromium: {
    commands: ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'],
    envVar: 'CHROMIUM_PATH',
    places: () => ['/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome', '/snap/bin/chromium'],
    apt: 'chromium',
    brew: '--cask chromium',
  },
  openssl: { commands: ['openssl'], envVar: 'OPENSSL_PATH', apt: 'openssl', brew: 'openssl' },
} satisfies Record<string, ProgramSpec>;

export type ProgramName = keyof typeof PROGRAMS;

export type Found = { path: string } | { missing: string };

/** Looks a program up: its variable if set, else PATH, else the well-known folders. Never runs it. */
export function findProgram(name: ProgramName, env: NodeJS.ProcessEnv = process.env): Found {
  const spec: ProgramSpec = PROGRAMS[name];
  const fromEnv = env[spec.envVar];
  if (fromEnv) return isExecutable(fromEnv) ? { path: fromEnv } : { missing: `${spec.envVar}=${fromEnv} is not an executable file` };
  const pathFolders = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const folder of [...pathFolders, ...BIN_FOLDERS]) {
    for (const command of spec.commands) {
      const candidate = join(folder, command);
      if (isExecutable(candidate)) return { path: candidate };
    }
  }
  for (const place of spec.places?.() ?? []) {
    const candidates = place.endsWith('/') ? spec.commands.map((command) => join(place, command)) : [place];
    const found = candidates.find(isExecutable);
    if (found) return { path: found };
  }
  return { missing: `${spec.commands.join(' or ')} not found on PATH, in ${BIN_FOLDERS.slice(0, 3).join(', ')}… or via ${spec.envVar}` };
}

/** The command that installs a program on this platform. */
export function installHint(name: ProgramName): string {
  const spec: ProgramSpec = PROGRAMS[name];
  return process.platform === 'darwin' ? `brew install ${spec.brew}` : `apt-get install ${spec.apt}`;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function safeReaddir(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}
