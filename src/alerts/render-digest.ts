import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { encodeButtonValue } from '../commands/button-value.js';
import { formatDuration } from '../config/duration.js';
import type { IncidentView } from './incident-view.js';
import { escapeAlertText, slackDate } from './mrkdwn.js';
import { fitMessage } from './slack-budget.js';
import { count, INCIDENT_ACTIONS, statusEmoji, statusWord } from './render-incident.js';

export type DigestIncident = Pick<IncidentView, 'id' | 'number' | 'title' | 'service' | 'severity' | 'counts' | 'status'>;

const SEVERITY_ORDER = ['critical', 'error', 'warning', 'info'];
/** Incidents shown with their own "Open thread" button, most severe first. */
export const MAX_DIGEST_ROWS = 20;
/**
 * The rest are listed as compact lines, several per section, so a storm of a thousand incidents
 * still fits in one message (50 blocks: header, window, rows, lists, "…and N more").
 */
const MAX_LIST_SECTIONS = 27;
const LIST_SECTION_BUDGET = 2_900;

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
      elements: [{ type: 'mrkdwn', text: `Since ${slackDate(windowStart, '{time}')}${where}. Too many at once for a thread each: open the ones you work on (\`/ops incidents\` lists them all).` }],
    },
  ];
  const rows = unique.slice(0, MAX_DIGEST_ROWS);
  blocks.push(...rows.map(row));
  const listed = listSections(unique.slice(MAX_DIGEST_ROWS));
  blocks.push(...listed.blocks);
  const shown = rows.length + listed.count;
  if (n > shown) {
    const rest: ContextBlock = {
      type: 'context',
      block_id: 'digest-more',
      elements: [{ type: 'mrkdwn', text: `…and ${count(n - shown)} more; \`/ops incidents\` lists them all.` }],
    };
    blocks.push(rest);
  }
  return fitMessage({ text, blocks });
}

const describe = (incident: DigestIncident, titleMax: number): string => {
  const service = incident.service ? ` — ${escapeAlertText(incident.service, 100)}` : '';
  const alerts = `${count(incident.counts.firing)} firing${incident.counts.resolved ? `, ${count(incident.counts.resolved)} resolved` : ''}`;
  const state = incident.status === 'resolved' ? ` · ${statusWord(incident).toLowerCase()}` : '';
  return `${statusEmoji(incident)} *#${incident.number}* ${escapeAlertText(incident.title, titleMax)}${service} · ${escapeAlertText(incident.severity, 30)} · ${alerts}${state}`;
};

/** The incidents past the rows, one line each, packed into as few sections as fit. */
function listSections(incidents: readonly DigestIncident[]): { blocks: SectionBlock[]; count: number } {
  const blocks: SectionBlock[] = [];
  let lines: string[] = [];
  let size = 0;
  let listed = 0;
  const flush = () => {
    if (lines.length === 0) return;
    blocks.push({ type: 'section', block_id: `digest-list-${blocks.length}`, text: { type: 'mrkdwn', text: lines.join('\n'), verbatim: true } });
    lines = [];
    size = 0;
  };
  for (const incident of incidents) {
    const line = describe(incident, 60);
    if (size + line.length + 1 > LIST_SECTION_BUDGET) {
      flush();
      if (blocks.length === MAX_LIST_SECTIONS) break;
    }
    lines.push(line);
    size += line.length + 1;
    listed++;
  }
  if (blocks.length < MAX_LIST_SECTIONS) flush();
  else listed -= lines.length;
  return { blocks, count: listed };
}

function row(incident: DigestIncident): SectionBlock {
  const line = describe(incident, 150);
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
