import type { Backup } from '../integrations/backup/schema.js';
import { jobContextBlock, scheduleActor, sections, type JobDefinition } from './job.js';

/** The job name of one backup's schedule; stable, since it keys `job_runs`. */
export const backupJobName = (service: string, backup: string) => `backup:${service}:${backup}`;

// Dispatch times the backup out at its own timeout plus 30 s; past that, the row is surely dead.
const MARGIN_MS = 3 * 60_000;

/**
 * A backup on its own `schedule`/`timezone`, through `backup.start` in dispatch (audited,
 * locked against a manual backup of the same service running), reported in the service's channel.
 */
export function backupJob(service: string, backup: Backup & { schedule: string }, channel: string | undefined): JobDefinition {
  const name = backupJobName(service, backup.name);
  const job: JobDefinition = {
    name,
    title: `backup \`${backup.name}\` of \`${service}\``,
    schedule: backup.schedule,
    timezone: backup.timezone ?? 'UTC',
    maxDurationMs: Math.max(60_000, backup.timeout) + MARGIN_MS,
    channel,
    async run({ dispatcher }) {
      const result = await dispatcher.dispatch({
        actionId: 'backup.start',
        input: { service, target: backup.name },
        actor: scheduleActor(name),
        origin: 'schedule',
      });
      const ok = result.status === 'succeeded';
      return {
        ok,
        summary: ok ? 'backup done' : `backup.start ended ${result.status}`,
        runRef: result.ref,
        ...(channel ? { post: { channel, text: result.reply.text, blocks: [jobContextBlock(job), ...(result.reply.blocks ?? sections(result.reply.text))] } } : {}),
      };
    },
  };
  return job;
}
