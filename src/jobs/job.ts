import type { KnownBlock } from '@slack/types';
import type { Logger } from 'pino';
import type { OutboxPriority } from '../alerts/outbox-port.js';
import { fitBlocks, fitMrkdwn } from '../alerts/slack-budget.js';
import type { Actor } from '../commands/action.js';
import type { Dispatcher } from '../commands/dispatch.js';
import type { Catalog } from '../config/catalog-schema.js';
import type { Queryable } from '../store/db.js';
import type { JobRunRecord } from './job-runs-repository.js';

/** What a job needs while it runs; built by the scheduler for each claimed slot. */
export interface JobContext {
  slot: Date;
  catalog: Catalog;
  dispatcher: Dispatcher;
  db: Queryable;
  logger: Logger;
  now: () => Date;
  /** Aborted when the scheduler stops before the job ends. */
  signal: AbortSignal;
  /** The newest run of this job that succeeded, for jobs that report only what changed. */
  previous(): Promise<JobRunRecord | undefined>;
}

/** A Slack message a job wants posted; the scheduler enqueues it with the job's end, in one transaction. */
export interface JobPost {
  channel: string;
  text: string;
  blocks?: KnownBlock[];
  priority?: OutboxPriority;
}

export interface JobOutcome {
  ok: boolean;
  /** One line for `job_runs.summary` and the log. */
  summary: string;
  post?: JobPost;
  /** The audit ref of the action run through dispatch, when there was one. */
  runRef?: string;
  /** Kept on the job run for the next run of the same job. */
  detail?: unknown;
}

/** One scheduled job: a cron schedule in a time zone and what to do in each slot. */
export interface JobDefinition {
  /** Stable: it keys `job_runs` and the Slack message of each slot (`job:<name>:<slot>`). */
  name: string;
  /** For people: "health report", "backup `database` of `brownie`". */
  title: string;
  schedule: string;
  timezone: string;
  /** After this a running slot is taken for dead and the job may run again. */
  maxDurationMs: number;
  /** Where a failure is reported when the job itself could not say; undefined: only the log. */
  channel: string | undefined;
  /** Store upkeep that never posts: having no channel is then not worth a note on its runs. */
  postsNothing?: boolean;
  run(ctx: JobContext): Promise<JobOutcome>;
}

/** Who scheduled runs are in the audit record: `schedule:<job>`, an automation. */
export const scheduleActor = (job: string): Actor => ({ id: 'schedule', name: `schedule:${job}`, kind: 'automation' });

/** Block Kit allows 3,000 characters in a section: long reports are split on line breaks. */
export function sections(text: string, maxBlocks = 45): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const piece = fitMrkdwn(line, 2_900);
    if (current && current.length + 1 + piece.length > 2_900) {
      blocks.push(section(current));
      current = piece;
    } else {
      current = current ? `${current}\n${piece}` : piece;
    }
  }
  if (current) blocks.push(section(current));
  if (blocks.length <= maxBlocks) return fitBlocks(blocks);
  return fitBlocks([...blocks.slice(0, maxBlocks - 1), section(`…and ${blocks.length - maxBlocks + 1} more sections; the full list is in the log.`)]);
}

const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** A context line above a job's message: which job, on which schedule. */
export function jobContextBlock(job: Pick<JobDefinition, 'title' | 'schedule' | 'timezone'>): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: `Scheduled ${job.title} · \`${job.schedule}\` ${job.timezone}` }] };
}
