import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { encodeButtonValue } from '../commands/button-value.js';
import { formatDuration } from '../config/duration.js';
import type { IncidentView } from './incident-view.js';
import { escapeAlertText, slackDate } from './mrkdwn.js';
import { count, INCIDENT_ACTIONS, statusEmoji, statusWord } from './render-incident.js';

export type DigestIncident = Pick<IncidentView, 'id' | 'number' | 'title' | 'service' | 'severity' | 'counts' | 'status'>;

const SEVERITY_ORDER = ['critical', 'error', 'warning', 'info'];
/** 50 blocks per message, less the header, the window line and the "…and N more" line. */
export const MAX_DIGEST_ROWS = 47;

const severityRank = (severity: string): number => {
  const i = SEVERITY_ORDER.indexOf(severity.toLowerCase());
  return i === -1 ? SEVERITY_ORDER.length : i;
};

/**
 * One message for an alert storm: the incidents opened in `channel` since `windowStart`, most
 * severe first, each with an "Open thread" button, instead of one thread per incident. Pure.
 */
export function renderDigest(channel: string, incidents: readonly DigestIncident[], windowStart: Date, now: Date): { text: string; blocks: KnownBlock[] } {
  const unique = [...new Map(incidents.map((i) => [i.id, i])).values()].sort(
    (a, b) => severityRank(a.severity) - severityRank(b.severity) || a.number - b.number,
  );
  const n = unique.length;
  const noun = n === 1 ? 'incident' : 'incidents';
  const where = /^[CG][A-Z0-9]{2,}$/.test(channel) ? ` in <#${channel}>` : '';
  const window = formatDuration(Math.max(0, now.getTime() - windowStart.getTime()));
  const critical = unique.filter((i) => i.severity.toLowerCase() === 'critical' && i.status === 'firing').length;
  const text = `⚡ ${count(n)} new ${noun}${where} in the last ${window}${critical ? `, ${count(critical)} critical` : ''}`;

  const blocks: KnownBlock[] = [
    { type: 'header', block_id: 'digest-header', text: { type: 'plain_text', text: `⚡ ${count(n)} new ${noun} in ${window}`, emoji: true } },
    {
      type: 'context',
      block_id: 'digest-window',
      elements: [{ type: 'mrkdwn', text: `Since ${slackDate(windowStart, '{time}')}${where}. Too many at once for a thread each: open the ones you work on.` }],
    },
  ];
  const shown = unique.slice(0, MAX_DIGEST_ROWS);
  blocks.push(...shown.map(row));
  if (n > shown.length) {
    const rest: ContextBlock = {
      type: 'context',
      block_id: 'digest-more',
      elements: [{ type: 'mrkdwn', text: `…and ${count(n - shown.length)} more; \`/ops incidents\` lists them all.` }],
    };
    blocks.push(rest);
  }
  return { text, blocks };
}

function row(incident: DigestIncident): SectionBlock {
  const service = incident.service ? ` — ${escapeAlertText(incident.service, 100)}` : '';
  const alerts = `${count(incident.counts.firing)} firing${incident.counts.resolved ? `, ${count(incident.counts.resolved)} resolved` : ''}`;
  const state = incident.status === 'resolved' ? ` · ${statusWord(incident).toLowerCase()}` : '';
  const line = `${statusEmoji(incident)} *#${incident.number}* ${escapeAlertText(incident.title, 150)}${service} · ${escapeAlertText(incident.severity, 30)} · ${alerts}${state}`;
  return {
    type: 'section',
    block_id: `digest-${incident.id}`,
    text: { type: 'mrkdwn', text: line, verbatim: true },
    accessory: {
      type: 'button',
      action_id: INCIDENT_ACTIONS.openThread,
      text: { type: 'plain_text', text: 'Open thread' },
      value: encodeButtonValue({ i: incident.id, in: {} }),
    },
  };
}
