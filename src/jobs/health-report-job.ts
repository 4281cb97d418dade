import type { JobsConfig } from './schema.js';
import { jobContextBlock, scheduleActor, sections, type JobDefinition } from './job.js';

export const HEALTH_REPORT_JOB = 'healthReport';

/**
 * The morning health report: the `service.health` action with no service, which checks every
 * service and answers one line each, run through dispatch so it is audited like any run.
 */
export function healthReportJob(config: JobsConfig['healthReport'], channel: string | undefined): JobDefinition {
  const job: JobDefinition = {
    name: HEALTH_REPORT_JOB,
    title: 'health report',
    schedule: config.schedule,
    timezone: config.timezone,
    // The action bounds itself at 75 s; the margin covers recording and a slow store.
    maxDurationMs: 5 * 60_000,
    channel,
    async run(ctx) {
      const result = await ctx.dispatcher.dispatch({ actionId: 'service.health', input: {}, actor: scheduleActor(HEALTH_REPORT_JOB), origin: 'schedule' });
      const ok = result.status === 'succeeded';
      // The action's own blocks cut its text at one section; a report of many services is split instead.
      const blocks = [jobContextBlock(job), ...sections(result.reply.text)];
      return {
        ok,
        summary: ok ? `checked ${Object.keys(ctx.catalog.services).length} services` : `service.health ended ${result.status}`,
        runRef: result.ref,
        ...(channel ? { post: { channel, text: result.reply.text, blocks } } : {}),
      };
    },
  };
  return job;
}
