import { formatDuration } from '../../config/duration.js';
import { runCommand } from '../command/run-command.js';
import { IntegrationError } from '../integration-error.js';
import type { CommandRestartConfig } from './schema.js';
import type { KindRestarter } from './types.js';

const TAIL_LINES = 5;
const TAIL_CHARS = 600;

/** Runs the catalog's restart command (no shell); a non-zero exit is a failed restart. */
export function createCommandRestarter(): KindRestarter<CommandRestartConfig> {
  return {
    async restart(config, { signal }) {
      const shown = config.argv.map(quoteForDisplay).join(' ');
      const program = config.argv[0] ?? '';
      const secrets = Object.values(config.env ?? {}).filter((value) => value.length >= 4);
      const result = await runCommand(
        {
          argv: config.argv,
          timeoutMs: config.timeout,
          ...(config.cwd !== undefined ? { cwd: config.cwd } : {}),
          ...(config.env !== undefined ? { env: config.env } : {}),
        },
        { signal },
      );
      if (result.exitCode !== 0) {
        const tail = lastLines(redact(result.output, secrets));
        throw new IntegrationError(`\`${shown}\` exited with code ${result.exitCode}${tail ? `: ${tail}` : ' and printed nothing'}`, {
          hint: `Run it by hand as the bot's user to see the whole output${config.cwd ? ` (in ${config.cwd})` : ''}.`,
        });
      }
      return { detail: `\`${shown}\` finished in ${formatDuration(result.durationMs)}`, targets: [program] };
    },
  };
}

/** The last few lines, joined so they fit one Slack line. */
function lastLines(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean).slice(-TAIL_LINES);
  const text = lines.join(' ⏎ ');
  return text.length > TAIL_CHARS ? `…${text.slice(-(TAIL_CHARS - 1))}` : text;
}

/** Env values are where a command's secrets live; commands sometimes print them. */
function redact(text: string, secrets: readonly string[]): string {
  return [...secrets].sort((a, b) => b.length - a.length).reduce((clean, secret) => clean.split(secret).join('***'), text);
}

/** Shows argv as an operator would type it, without suggesting a shell ever ran it. */
function quoteForDisplay(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}
