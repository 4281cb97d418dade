import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describeCatalog, describeEscalation } from './config/describe-catalog.js';
import { CatalogError, loadCatalog } from './config/load-catalog.js';

interface CliCommand {
  /** One line for the list of commands. */
  summary: string;
  /** What `switchboard <command> --help` prints. */
  usage: string;
  run(args: string[]): Promise<number>;
}

const HELP_FLAGS = new Set(['--help', '-h']);

async function firstExisting(files: string[]): Promise<string> {
  for (const file of files) {
    if (await access(file).then(() => true, () => false)) return file;
  }
  return files[0]!;
}

async function check(args: string[]): Promise<number> {
  const option = args.find((a) => a.startsWith('-'));
  if (option) return fail(`switchboard check: unknown option ${option}. A catalog path that starts with "-" is written ./${option}.`, 'check');
  if (args.length > 1) return fail(`switchboard check takes one catalog file, not ${args.length}.`, 'check');
  const file =
    args[0] ??
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

const COMMANDS: Record<string, CliCommand> = {
  start: {
    summary: 'start the bot (what `npm start` does)',
    usage: `Usage: switchboard start

Starts Switchboard with the configuration in its environment (SLACK_*, DATABASE_URL,
SWITCHBOARD_CONFIG, PORT, …; README has the reference). With no Slack variables it
serves the sandbox; with no DATABASE_URL it keeps its data in $SWITCHBOARD_DATA_DIR
(./.data). SIGTERM or SIGINT stops it.

Options:
  -h, --help   show this help`,
    run: async (args) => {
      if (args.length > 0) return fail(`switchboard start takes no arguments; it is configured by its environment.`, 'start');
      // The composition root starts the bot as it is imported, and the process lives on with its server.
      await import('./main.js');
      return 0;
    },
  },
  check: {
    summary: 'validate a catalog and print what it describes',
    usage: `Usage: switchboard check [catalog.yml]

Validates a catalog and prints what it describes: its services and health checks,
its roles, and who each escalation level would page now. Without a file it checks
$SWITCHBOARD_CONFIG, then ./switchboard.yml, then the bundled example.

Exit status: 0 when the catalog is valid, 1 when it has problems (each is printed
with its line, a caret under the column, and how to fix it), 2 for a wrong command line.

Options:
  -h, --help   show this help`,
    run: check,
  },
  help: {
    summary: 'show the help of a command',
    usage: 'Usage: switchboard help [command]\n\nShows the list of commands, or the help of one command (the same as `switchboard <command> --help`).',
    run: async ([topic]) => {
      if (topic === undefined) return write(overview(), 0);
      const command = COMMANDS[topic];
      return command ? write(command.usage, 0) : fail(`switchboard help: there is no command "${topic}".`);
    },
  },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const list = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}   ${command.summary}`);
  return ['Usage: switchboard <command> [options]', '', 'Commands:', ...list, '', 'Run `switchboard <command> --help` for the options of one command.'].join('\n');
}

function write(text: string, status: number): number {
  process.stdout.write(`${text}\n`);
  return status;
}

/** A wrong command line: says what was wrong and where the help is, on stderr, with status 2. */
function fail(problem: string, command?: string): number {
  process.stderr.write(`${problem}\nRun \`switchboard ${command ? `${command} --help` : '--help'}\` for the usage.\n`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || HELP_FLAGS.has(name)) return write(overview(), 0);
  const command = COMMANDS[name];
  if (!command) return fail(`switchboard: unknown command "${name}".`);
  // Help is asked for anywhere on the line, so `check --help` never reads "--help" as a file.
  if (rest.some((arg) => HELP_FLAGS.has(arg))) return write(command.usage, 0);
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
