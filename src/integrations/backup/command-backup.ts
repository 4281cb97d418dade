import { formatDuration } from '../../config/duration.js';
import { runCommand } from '../command/run-command.js';
import { IntegrationError, isIntegrationError } from '../integration-error.js';
import { startProgress } from './progress.js';
import type { CommandBackup } from './schema.js';
import { lastLines, scrub } from './scrub.js';
import type { BackupOutcome, BackupRunOptions } from './types.js';

// Values of such variables are treated as secrets and scrubbed from anything shown in Slack.
const SECRET_NAME = /pass|secret|token|key|credential|auth/i;

/** Runs a catalog backup script (e.g. `./scripts/backup.sh --skip-logs`); its last output line is the detail. */
export async function runCommandBackup(config: CommandBackup, opts: BackupRunOptions, progressEveryMs: number): Promise<BackupOutcome> {
  const program = config.argv[0] ?? '';
  const secrets = Object.entries(config.env ?? {}).flatMap(([name, value]) => (SECRET_NAME.test(name) ? [value] : []));
  const clean = (text: string) => scrub(text, secrets);
  const started = Date.now();
  const deadline = AbortSignal.timeout(config.timeout);
  const progress = startProgress(opts.onProgress, progressEveryMs, started);
  progress.phase('running');
  try {
    const result = await runCommand(
      { argv: config.argv, cwd: config.cwd, env: config.env, timeoutMs: config.timeout + 1_000 },
      { signal: AbortSignal.any([opts.signal, deadline]) },
    );
    if (result.exitCode !== 0) {
      throw new IntegrationError(`Backup command ${program} exited with ${result.exitCode}:\n${clean(lastLines(result.output))}`);
    }
    const detail = clean(lastLines(result.stdout, 1));
    return { durationMs: result.durationMs, verified: false, pruned: [], detail: detail === '(no output)' ? `${program} finished in ${formatDuration(result.durationMs)}` : detail };
  } catch (error) {
    if (deadline.aborted) throw new IntegrationError(`Backup command ${program} timed out after ${formatDuration(config.timeout)} and was stopped`, { cause: error, hint: 'raise `timeout` for this backup' });
    if (opts.signal.aborted) throw new IntegrationError(`Backup command ${program} was cancelled`, { cause: error });
    if (isIntegrationError(error)) throw new IntegrationError(clean(error.message), { cause: error, hint: error.options.hint });
    throw error;
  } finally {
    progress.stop();
  }
}
