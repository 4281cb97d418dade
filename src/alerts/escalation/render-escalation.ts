import type { KnownBlock } from '@slack/types';
import { encodeButtonValue } from '../../commands/button-value.js';
import { formatDuration } from '../../config/duration.js';
import { escapeAlertText, mentionUser } from '../mrkdwn.js';
import { INCIDENT_ACTIONS, severityEmoji } from '../render-incident.js';
import { fitMessage, fitMrkdwn, fitPlain, SLACK_LIMITS } from '../slack-budget.js';
import type { EscalationIncident } from './escalation-store.js';

/** Where people find the incident: its thread's channel, or `/ops` when it was never posted. */
function where(incident: Pick<EscalationIncident, 'number' | 'channel'>): string {
  if (!incident.channel) return `incident #${incident.number}`;
  // A catalog may name a channel `#name`; only ids make a channel link.
  const channel = /^[CG][A-Z0-9]{2,}$/.test(incident.channel) ? `<#${incident.channel}>` : escapeAlertText(incident.channel, 90);
  return `incident #${incident.number} in ${channel}`;
}

function headline(incident: EscalationIncident): string {
  const service = incident.service ? ` — ${escapeAlertText(incident.service, 80)}` : '';
  return `${severityEmoji(incident.severity)} [${escapeAlertText(incident.severity, 20)}] ${escapeAlertText(incident.title, 150)}${service}`;
}

/** The direct message to a paged person: what, where, how long unanswered, and an Acknowledge button. */
export function renderPageDm(
  incident: EscalationIncident,
  page: { level: number; levels: number; round: number; unansweredMs: number },
): { text: string; blocks: KnownBlock[] } {
  const round = page.round > 0 ? `, round ${page.round + 1}` : '';
  const text =
    `📟 You are paged for ${where(incident)}: ${headline(incident)}\n` +
    `Not acknowledged after ${formatDuration(page.unansweredMs)} (level ${page.level} of ${page.levels}${round}). ` +
    `Acknowledge it here, in the thread, or with \`/ops ack ${incident.number}\`.`;
  return fitMessage({
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text, verbatim: true } },
      {
        type: 'actions',
        block_id: 'page-actions',
        elements: [
          {
            type: 'button',
            action_id: INCIDENT_ACTIONS.ack,
            text: { type: 'plain_text', text: fitPlain(`Acknowledge #${incident.number}`, SLACK_LIMITS.buttonText) },
            value: encodeButtonValue({ i: incident.id, in: {} }),
            style: 'primary',
          },
        ],
      },
    ],
  });
}

/** The thread warning for a level that resolved to nobody: said out loud, never skipped silently. */
export function renderNobodyWarning(page: { level: number; levels: number; paged: number }, reasons: readonly string[]): string {
  const why = reasons.map((r) => escapeAlertText(r, 300)).join('; ');
  const who = page.paged > 0 ? 'Part of this level pages nobody' : 'This level pages nobody';
  const advice = ' Page someone by hand, or set a stand-in with `/ops oncall override &lt;schedule&gt; &lt;user&gt; &lt;duration&gt;`.';
  return `${fitMrkdwn(`⚠️ Level ${page.level} of ${page.levels}: ${who}: ${why}.`, SLACK_LIMITS.sectionText - advice.length)}${advice}`;
}

/** The reminder to whoever acknowledged an incident that keeps firing: in its thread, or by DM when it has none. */
export function renderReminder(
  incident: Pick<EscalationIncident, 'number' | 'channel'>,
  acknowledged: { userId: string; at: Date },
  now: Date,
  options: { inThread: boolean },
): string {
  const since = formatDuration(now.getTime() - acknowledged.at.getTime());
  const what = options.inThread ? `${mentionUser(acknowledged.userId)}, you acknowledged this incident` : `You acknowledged ${where(incident)}`;
  return `⏰ ${what} ${since} ago and it is still firing. Resolve it when it is fixed, or hand it over.`;
}
