import { escapeAlertText, slackDate } from '../alerts/mrkdwn.js';
import { formatDuration } from '../config/duration.js';
import type { Queryable } from '../store/db.js';
import { jobContextBlock, sections, type JobDefinition } from './job.js';
import type { JobsConfig } from './schema.js';

export const ESCALATION_AUDIT_JOB = 'escalationAudit';

/** An escalation step (or reminder) that should have happened by now and has not. */
export interface OverdueEscalation {
  incidentId: string;
  /** The number people type (`/ops ack 42`). */
  number?: number;
  /** What is late: `step 2` of the ladder, or `reminder` (acknowledged incidents). */
  step: string;
  dueAt: Date;
  /** The incident's title, for the message (untrusted alert text: escaped here). */
  title?: string;
}

/** Reads the escalation store: what firing incidents should have done before `dueBefore` and have not. */
export type OverdueEscalationsQuery = (db: Queryable, dueBefore: Date) => Promise<OverdueEscalation[]>;

/**
 * The escalation store's answer (migration 006): `escalations.next_due_at` is when the ticker
 * must act next on an incident, a step or a reminder; once acted on it moves on or becomes NULL,
 * so a firing incident whose `next_due_at` lies well in the past is an escalation running late.
 */
export const overdueEscalationSteps: OverdueEscalationsQuery = async (db, dueBefore) => {
  const { rows } = await db.query<{ incident_id: string; number: number; title: string; notified_steps: number; acknowledged: boolean; next_due_at: Date | string }>(
    `SELECT e.incident_id, i.number, i.title, e.notified_steps, i.acknowledged_at IS NOT NULL AS acknowledged, e.next_due_at
       FROM escalations e JOIN incidents i ON i.id = e.incident_id
      WHERE e.next_due_at < $1 AND i.status = 'firing'
      ORDER BY e.next_due_at
      LIMIT 500`,
    [dueBefore],
  );
  return rows.map((r) => ({
    incidentId: r.incident_id,
    number: r.number,
    title: r.title,
    step: r.acknowledged ? 'reminder' : `step ${r.notified_steps + 1}`,
    dueAt: new Date(r.next_due_at),
  }));
};

interface AuditDetail {
  overdue: string[];
}

const keyOf = (step: OverdueEscalation) => `${step.incidentId}#${step.step}@${step.dueAt.toISOString()}`;
const MAX_LISTED = 20;

function readDetail(detail: unknown): AuditDetail {
  const overdue = (detail as Partial<AuditDetail> | null)?.overdue;
  return { overdue: Array.isArray(overdue) ? overdue.filter((k): k is string => typeof k === 'string') : [] };
}

/**
 * Proves escalations are on time: every run asks the store for steps overdue by more than
 * `overdueAfter` and warns in the default route's channel when one appears that the last
 * audit had not reported (so a stuck step is one warning, not one a minute), and says so
 * once when everything is on time again. What it reported is kept on its run for the next.
 */
export function escalationAuditJob(config: JobsConfig['escalationAudit'], channel: string | undefined, overdueEscalations: OverdueEscalationsQuery): JobDefinition {
  const job: JobDefinition = {
    name: ESCALATION_AUDIT_JOB,
    title: 'escalation audit',
    schedule: config.schedule,
    timezone: config.timezone,
    maxDurationMs: 2 * 60_000,
    channel,
    async run({ db, now, previous }) {
      const at = now();
      const overdue = await overdueEscalations(db, new Date(at.getTime() - config.overdueAfter));
      const keys = overdue.map(keyOf);
      const reported = new Set(readDetail((await previous())?.detail).overdue);
      const fresh = keys.filter((k) => !reported.has(k));
      const detail: AuditDetail = { overdue: keys };
      if (overdue.length === 0) {
        if (reported.size === 0) return { ok: true, summary: 'escalations on time', detail };
        const text = '✓ Escalations are on time again: no step is overdue.';
        return { ok: true, summary: 'escalations on time again', detail, ...(channel ? { post: { channel, text } } : {}) };
      }
      const summary = `${overdue.length} escalation step${overdue.length === 1 ? '' : 's'} overdue (${fresh.length} new)`;
      if (fresh.length === 0) return { ok: true, summary, detail };
      const lines = overdue
        .slice()
        .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime())
        .slice(0, MAX_LISTED)
        .map((s) => {
          const incident = s.number !== undefined ? `#${s.number}` : `incident \`${s.incidentId}\``;
          const name = s.title ? `${incident} ${escapeAlertText(s.title, 150)}` : incident;
          return `• ${name}: ${s.step} was due ${slackDate(s.dueAt)}, ${formatDuration(at.getTime() - s.dueAt.getTime())} late`;
        });
      const more = overdue.length > MAX_LISTED ? [`…and ${overdue.length - MAX_LISTED} more.`] : [];
      const text = [
        `:rotating_light: *Escalations are running late.* ${overdue.length} step${overdue.length === 1 ? ' is' : 's are'} more than ${formatDuration(config.overdueAfter)} overdue, so people may not have been paged. Check that Switchboard is running and read its log.`,
        ...lines,
        ...more,
      ].join('\n');
      return {
        ok: true,
        summary,
        detail,
        ...(channel ? { post: { channel, text, blocks: [jobContextBlock(job), ...sections(text)], priority: 'page' as const } } : {}),
      };
    },
  };
  return job;
}
