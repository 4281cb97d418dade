import type { ActionsBlock, Button, ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { actionIdFor, encodeButtonValue } from '../commands/button-value.js';
import { formatDuration } from '../config/duration.js';
import type { AlertView, IncidentView, RunbookButton } from './incident-view.js';
import { codeSpan, escapeAlertText, mentionUser, mrkdwnLink, safeUrl, slackDate, stripControl, truncateText } from './mrkdwn.js';
import { fitLinks, fitMessage, SLACK_LIMITS } from './slack-budget.js';

/** Action ids of the incident's own buttons. Slack keeps them in old messages: never rename one. */
export const INCIDENT_ACTIONS = {
  ack: 'inc:ack',
  resolve: 'inc:resolve',
  /** Opens a choice of durations; the value carries the incident id. */
  silence: 'inc:silence',
  unsilence: 'inc:unsilence',
  /** On digest messages: posts (or links to) the incident's own thread. */
  openThread: 'inc:open-thread',
} as const;

/** Alerts listed by name on the incident message; the rest are counted. */
export const MAX_LISTED_ALERTS = 10;

const SEVERITY_EMOJI: Record<string, string> = { critical: '🔴', error: '🟠', warning: '🟡', info: '🔵' };
const RESOLVED_EMOJI = '✅';
/** Label names every line would repeat, or that the message shows elsewhere. */
const SHOWN_ELSEWHERE = new Set(['alertname', 'severity', 'service']);
const SECTION_BUDGET = 2_900;
const MAX_ACTION_BLOCKS = 4;
const ACTIONS_PER_BLOCK = 25;

type StatusWord = 'FIRING' | 'ACKNOWLEDGED' | 'RESOLVED';
type Summary = Pick<IncidentView, 'status' | 'severity'> & { acknowledged?: unknown };

export const severityEmoji = (severity: string): string => SEVERITY_EMOJI[severity.toLowerCase()] ?? '⚪';

export function statusWord(view: Summary): StatusWord {
  if (view.status === 'resolved') return 'RESOLVED';
  return view.acknowledged ? 'ACKNOWLEDGED' : 'FIRING';
}

export const statusEmoji = (view: Summary): string => (view.status === 'resolved' ? RESOLVED_EMOJI : severityEmoji(view.severity));

/** "12m ago", "just now"; `now` is the render time, so the message says when it was last rendered. */
export function ago(at: Date, now: Date): string {
  const ms = now.getTime() - at.getTime();
  return ms < 60_000 ? 'just now' : `${formatDuration(ms)} ago`;
}

/** "in 12m", "now". */
export function fromNow(at: Date, now: Date): string {
  const ms = at.getTime() - now.getTime();
  return ms < 1_000 ? 'now' : `in ${formatDuration(ms)}`;
}

export const count = (n: number): string => n.toLocaleString('en-US');

/**
 * The incident's parent message, re-rendered from state on every change. Pure. Whatever the
 * number of alerts and the size of their text, the result stays within Slack's Block Kit limits.
 */
export function renderIncident(view: IncidentView, now: Date): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [header(view)];
  const summary = summarySection(view);
  if (summary) blocks.push(summary);
  blocks.push(factsSection(view, now));
  const alerts = alertsSection(view);
  if (alerts) blocks.push(alerts);
  const context = contextBlocks(view);
  blocks.push(...context);
  blocks.push(...actionBlocks(view));
  return fitMessage({ text: fallbackText(view), blocks });
}

/** `🔴 FIRING [critical] ServiceDown — api-gateway (#42)`: what notifications and old clients show. */
function fallbackText(view: IncidentView): string {
  const service = view.service ? ` — ${escapeAlertText(view.service, 80)}` : '';
  return `${statusEmoji(view)} ${statusWord(view)} [${escapeAlertText(view.severity, 20)}] ${escapeAlertText(view.title, 150)}${service} (#${view.number})`;
}

function header(view: IncidentView): KnownBlock {
  const prefix = `${statusEmoji(view)} ${statusWord(view)} #${view.number} · `;
  return { type: 'header', block_id: 'incident-header', text: { type: 'plain_text', text: prefix + escapeAlertText(view.title, 150 - prefix.length), emoji: true } };
}

/**
 * The group's summary and description annotations. One alert's own annotations stand for the
 * group only when it is the only alert; otherwise each alert's line shows its own summary.
 */
function summarySection(view: IncidentView): SectionBlock | undefined {
  const only = view.alerts.length === 1 ? view.alerts[0] : undefined;
  const pick = (...names: string[]) => {
    for (const source of [view.commonAnnotations, only?.annotations ?? {}]) {
      for (const name of names) {
        const value = stripControl(source[name] ?? '').trim();
        if (value) return value;
      }
    }
    return undefined;
  };
  const summary = pick('summary', 'message');
  const description = pick('description');
  if (!summary && !description) return undefined;
  const lines: string[] = [];
  if (summary) lines.push(`*${escapeAlertText(summary, 400)}*`);
  if (description && description !== summary) lines.push(escapeAlertText(description, 2_500));
  return { type: 'section', block_id: 'incident-summary', text: { type: 'mrkdwn', text: lines.join('\n'), verbatim: true } };
}

function factsSection(view: IncidentView, now: Date): SectionBlock {
  const fields: string[] = [];
  // Every value is bounded by construction, far below Slack's 2,000 characters per field.
  const field = (name: string, value: string) => fields.push(`*${name}*\n${value}`);
  if (view.service) field('Service', escapeAlertText(view.service, 150));
  field('Severity', escapeAlertText(view.severity, 50));
  const truncated = view.truncatedAlerts > 0 ? `\n+${count(view.truncatedAlerts)} more not shown by Alertmanager` : '';
  field('Alerts', `${count(view.counts.firing)} firing · ${count(view.counts.resolved)} resolved${truncated}`);
  // Unknown when Alertmanager sent Go's zero time for every alert: said, never shown as year 1.
  field('Started', view.startedAt ? `${slackDate(view.startedAt)} (${ago(view.startedAt, now)})` : 'unknown');
  if (view.status === 'resolved') {
    const by = view.resolvedBy ? mentionUser(view.resolvedBy.userId) : 'Alertmanager';
    const at = view.resolvedBy?.at ?? view.resolvedAt;
    field('Resolved', at ? `${slackDate(at)} by ${by}` : `by ${by}`);
  }
  if (view.acknowledged) field('Acknowledged', `by ${mentionUser(view.acknowledged.userId)} ${slackDate(view.acknowledged.at)}`);
  if (view.escalation) field('Escalation', escalationText(view, now));
  if (view.silence) {
    const expired = view.silence.endsAt.getTime() <= now.getTime();
    const by = view.silence.createdBy ? ` by ${mentionUser(view.silence.createdBy)}` : '';
    field(expired ? 'Silence ended' : 'Silenced', `${expired ? '' : 'until '}${slackDate(view.silence.endsAt)}${by}\n${codeSpan(view.silence.id, 80)}`);
  }
  return { type: 'section', block_id: 'incident-facts', fields: fields.map((text) => ({ type: 'mrkdwn', text, verbatim: true })) };
}

function escalationText(view: IncidentView, now: Date): string {
  const { level, levels, nextAt } = view.escalation!;
  const where = `level ${level} of ${levels}`;
  if (view.status === 'resolved' || view.acknowledged) return `${where}, stopped`;
  // The escalator pauses the ladder while a silence covers every firing alert.
  if (view.silence && view.silence.endsAt.getTime() > now.getTime()) return `${where}, paused while silenced`;
  if (!nextAt) return level >= levels ? `${where} (last)` : where;
  return `${where}, next ${fromNow(nextAt, now)} (${slackDate(nextAt, '{time}')})`;
}

/** Up to ten alerts with the labels that tell them apart, firing ones first, then a count of the rest. */
function alertsSection(view: IncidentView): SectionBlock | undefined {
  const total = Math.max(view.alerts.length, view.counts.firing + view.counts.resolved);
  const ordered = [...view.alerts.filter((a) => a.status === 'firing'), ...view.alerts.filter((a) => a.status !== 'firing')];
  const lines = ordered.slice(0, MAX_LISTED_ALERTS).map((alert) => alertLine(alert, view));
  if (total <= 1 && !lines.some((l) => l.distinct)) return undefined;
  let text = `*Alerts* (${count(total)})`;
  let shown = 0;
  for (const line of lines) {
    if (text.length + 1 + line.text.length > SECTION_BUDGET - 60) break;
    text += `\n${line.text}`;
    shown++;
  }
  if (total > shown) text += `\n_…and ${count(total - shown)} more_`;
  return { type: 'section', block_id: 'incident-alerts', text: { type: 'mrkdwn', text, verbatim: true } };
}

/** One line about an alert: its status mark, the labels that set it apart from the group, and its own summary. */
export const describeAlert = (alert: AlertView, view: Pick<IncidentView, 'commonLabels' | 'commonAnnotations'>): string => alertLine(alert, view).text;

function alertLine(alert: AlertView, view: Pick<IncidentView, 'commonLabels' | 'commonAnnotations'>): { text: string; distinct: boolean } {
  const byName = ([a]: [string, string], [b]: [string, string]) => (a < b ? -1 : a > b ? 1 : 0);
  const own = Object.entries(alert.labels).filter(([name]) => !SHOWN_ELSEWHERE.has(name));
  const distinct = own.filter(([name, value]) => view.commonLabels[name] !== value).sort(byName).slice(0, 4);
  // An alert alone in its group shares every label with it: then its own labels tell it apart in the thread.
  const shown = distinct.length > 0 ? distinct : own.sort(byName).slice(0, 4);
  const labels = shown.map(([name, value]) => codeSpan(`${name}=${value}`, 80)).join(' ');
  const summaryText = alert.annotations.summary ?? alert.annotations.message;
  const summary = summaryText && summaryText !== view.commonAnnotations.summary ? ` — ${escapeAlertText(summaryText.replace(/\s+/g, ' '), 150)}` : '';
  const name = alert.labels.alertname && alert.labels.alertname !== view.commonLabels.alertname ? `${escapeAlertText(alert.labels.alertname, 60)} ` : '';
  const mark = alert.status === 'firing' ? '🔴' : RESOLVED_EMOJI;
  const who = `${name}${labels}`.trim() || codeSpan(alert.fingerprint, 40);
  return { text: `${mark} ${who}${summary}`, distinct: distinct.length > 0 || name !== '' };
}

function contextBlocks(view: IncidentView): ContextBlock[] {
  const blocks: ContextBlock[] = [];
  const common = Object.entries(view.commonLabels)
    .filter(([name]) => !SHOWN_ELSEWHERE.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, 12);
  if (common.length > 0) {
    const text = common.map(([name, value]) => codeSpan(`${name}=${value}`, 120)).join(' ');
    blocks.push({ type: 'context', block_id: 'incident-labels', elements: [{ type: 'mrkdwn', text, verbatim: true }] });
  }
  const links = [
    [view.links.generator ?? view.alerts.find((a) => a.generatorURL)?.generatorURL, 'Source'],
    [view.links.runbook ?? view.commonAnnotations.runbook_url, 'Runbook'],
    [view.links.alertmanager, 'Alertmanager'],
  ]
    .map(([url, label]) => ({ url: safeUrl(url), label: label! }))
    .filter((link): link is { url: string; label: string } => link.url !== undefined);
  // The links share one element: each gets a third of its 3,000 characters, past which it links to its origin.
  const text = fitLinks(links, mrkdwnLink, ' · ', SLACK_LIMITS.contextText);
  if (text) blocks.push({ type: 'context', block_id: 'incident-links', elements: [{ type: 'mrkdwn', text }] });
  return blocks;
}

function actionBlocks(view: IncidentView): ActionsBlock[] {
  const value = encodeButtonValue({ i: view.id, in: {} });
  const own: Button[] = [];
  const firing = view.status === 'firing';
  if (firing && !view.acknowledged) own.push(button(INCIDENT_ACTIONS.ack, 'Acknowledge', value, 'primary'));
  if (firing) own.push(button(INCIDENT_ACTIONS.resolve, 'Resolve', value));
  if (view.silence) own.push(button(INCIDENT_ACTIONS.unsilence, 'Unsilence', value));
  else if (firing) own.push(button(INCIDENT_ACTIONS.silence, 'Silence', value));
  const runbook = firing ? view.buttons.flatMap((b) => runbookButton(b, view.id) ?? []) : [];

  // Slack wants action_ids unique within a block: a second button of the same action (say,
  // reset for another circuit breaker) goes to the next row.
  const rows: Button[][] = [own];
  for (const b of runbook) {
    const row = rows.find((r) => r.length < ACTIONS_PER_BLOCK && !r.some((o) => o.action_id === b.action_id));
    if (row) row.push(b);
    else if (rows.length < MAX_ACTION_BLOCKS) rows.push([b]);
  }
  return rows
    .filter((r) => r.length > 0)
    .map((elements, i) => ({ type: 'actions', block_id: i === 0 ? 'incident-actions' : `incident-actions-${i + 1}`, elements }));
}

function button(actionId: string, label: string, value: string, style?: 'primary' | 'danger'): Button {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text: label }, value, ...(style ? { style } : {}) };
}

function runbookButton(b: RunbookButton, incidentId: string): Button | undefined {
  let value: string;
  try {
    value = encodeButtonValue({ i: incidentId, in: { ...b.input } });
  } catch {
    return undefined; // a value over Slack's 2,000 characters: leave the button out rather than the message
  }
  const label = b.label.trim() || b.actionId;
  const element = button(actionIdFor(b.actionId), truncateText(label, 75), value);
  if (b.confirm) {
    element.confirm = {
      title: { type: 'plain_text', text: truncateText(b.confirm.title.trim() || 'Are you sure?', 100) },
      text: { type: 'plain_text', text: truncateText(b.confirm.text.trim() || label, 300) },
      confirm: { type: 'plain_text', text: truncateText(label, 30) },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    };
  }
  return element;
}
