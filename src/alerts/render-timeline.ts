import type { KnownBlock } from '@slack/types';
import type { IncidentView } from './incident-view.js';
import { codeSpan, escapeAlertText, mentionUser, slackDate, truncateText } from './mrkdwn.js';
import { count, describeAlert, MAX_LISTED_ALERTS } from './render-incident.js';
import { fitLines, fitMessage, fitMrkdwn } from './slack-budget.js';

/** The outcome of a run, as the runs table records it. */
export type RunOutcome = 'succeeded' | 'failed' | 'timed_out' | 'refused';

/**
 * One thing that happened to an incident, as its thread shows it. `by` is a Slack user id, or
 * `alertmanager`, or the name of what acted for Switchboard (an automation rule, a schedule).
 */
/** When and from which Alertmanagers Switchboard found alerts gone that no notification resolved. */
export type ResolutionCheck = { at: Date; alertmanagers: readonly string[] };

export type TimelineEvent =
  /** Alerts that joined the group (new, or firing again); their labels come from the view. */
  | { kind: 'alerts_firing'; fingerprints: readonly string[] }
  /** `checked`: Alertmanager no longer had them when Switchboard asked its API (their resolution was never notified). */
  | { kind: 'alerts_resolved'; fingerprints: readonly string[]; checked?: ResolutionCheck }
  /** `fingerprints` (and `checked`): the alerts whose resolving resolved it, when Alertmanager did (see {@link mergeResolution}). */
  | { kind: 'incident_resolved'; by: string; fingerprints?: readonly string[]; checked?: ResolutionCheck }
  | { kind: 'acknowledged'; by: string }
  | { kind: 'silenced'; silenceId: string; endsAt: Date; by: string }
  /** `by` is `alertmanager` when the silence expired or was removed there. */
  | { kind: 'unsilenced'; silenceId: string; by: string }
  /** `summary` is the action's reply, already mrkdwn-safe (actions escape what they report). */
  | { kind: 'run_finished'; actionTitle: string; target?: string; by: string; status: RunOutcome; summary: string; ref?: string }
  /** `targets` are catalog mentions: `<@U…>`, `<@W…>` or `<!subteam^S…>`; anything else is shown as text. */
  | { kind: 'escalated'; level: number; levels: number; targets: readonly string[]; due?: ReadonlyArray<{ level: number; targets: readonly string[] }> }
  | { kind: 'reopened' }
  /** A person's note: untrusted text. */
  | { kind: 'note'; by: string; text: string };

export type TimelineEventKind = TimelineEvent['kind'];

const TEXT_BUDGET = 2_900;
const MAX_TARGETS = 50;
const MENTION = /^<(?:@[UW][A-Z0-9]{2,}|!subteam\^S[A-Z0-9]{2,}(?:\|@?[\p{L}\p{N}._-]{1,80})?)>$/u;

const RUN_EMOJI: Record<RunOutcome, string> = { succeeded: '✅', failed: '❌', timed_out: '⏱️', refused: '🚫' };
const RUN_WORDS: Record<RunOutcome, string> = { succeeded: 'succeeded', failed: 'failed', timed_out: 'timed out', refused: 'was refused' };

/**
 * The events of one change as the thread should say them: when the last alerts resolving
 * resolves the incident, that is one reply ("Resolved: every alert stopped firing." with those
 * alerts), not one about the alerts and another about the incident saying the same thing.
 */
export function mergeResolution(events: readonly TimelineEvent[]): TimelineEvent[] {
  const merged: TimelineEvent[] = [];
  for (const event of events) {
    const previous = merged.at(-1);
    if (event.kind === 'incident_resolved' && event.by === 'alertmanager' && previous?.kind === 'alerts_resolved') {
      merged[merged.length - 1] = {
        ...event,
        fingerprints: [...(event.fingerprints ?? []), ...previous.fingerprints],
        ...(previous.checked ? { checked: previous.checked } : {}),
      };
    } else merged.push(event);
  }
  return merged;
}

/** A thread reply about one timeline event. Pure; escaped; within Slack's limits. */
export function renderTimelineEvent(event: TimelineEvent, view: IncidentView): { text: string; blocks?: KnownBlock[] } {
  return fitMessage(timelineReply(event, view));
}

function timelineReply(event: TimelineEvent, view: IncidentView): { text: string; blocks?: KnownBlock[] } {
  switch (event.kind) {
    case 'alerts_firing':
      return alertsChanged(event.kind, event.fingerprints, view);
    case 'alerts_resolved':
      return alertsChanged(event.kind, event.fingerprints, view, event.checked);
    case 'incident_resolved': {
      if (event.by === 'alertmanager') {
        return withAlertList(`✅ Resolved: every alert stopped firing.${goneNote(event.checked, event.fingerprints?.length ?? 0)}`, event.fingerprints ?? [], view);
      }
      const still = view.counts.firing > 0 ? ` Alertmanager still reports ${count(view.counts.firing)} firing.` : '';
      return { text: `✅ ${actor(event.by)} resolved the incident.${still}` };
    }
    case 'acknowledged':
      return { text: `👀 ${actor(event.by)} acknowledged.${view.escalation ? ' Escalation stopped.' : ''}` };
    case 'silenced':
      return { text: `🔕 ${actor(event.by)} silenced these alerts until ${slackDate(event.endsAt)} (silence ${codeSpan(event.silenceId, 60)}).` };
    case 'unsilenced':
      return {
        text:
          event.by === 'alertmanager'
            ? `🔔 Silence ${codeSpan(event.silenceId, 60)} ended.`
            : `🔔 ${actor(event.by)} removed silence ${codeSpan(event.silenceId, 60)}.`,
      };
    case 'run_finished':
      return runFinished(event);
    case 'escalated':
      return escalated(event);
    case 'reopened':
      return { text: `🔁 Alerts fired again: incident #${view.number} is open again.` };
    case 'note': {
      const head = `📝 ${actor(event.by)}: `;
      return { text: head + escapeAlertText(event.text, TEXT_BUDGET - head.length) };
    }
  }
}

function actor(by: string): string {
  if (by === 'alertmanager') return 'Alertmanager';
  return mentionUser(by);
}

function alertsChanged(kind: 'alerts_firing' | 'alerts_resolved', fingerprints: readonly string[], view: IncidentView, checked?: ResolutionCheck) {
  const n = fingerprints.length;
  const noun = n === 1 ? 'alert' : 'alerts';
  const text =
    kind === 'alerts_firing'
      ? `🔴 ${count(n)} ${noun} started firing (${count(view.counts.firing)} firing now).`
      : `✅ ${count(n)} ${noun} resolved (${count(view.counts.firing)} still firing).${goneNote(checked, n)}`;
  return withAlertList(text, fingerprints, view);
}

/** Why alerts resolved without a notification: Switchboard asked Alertmanager and they were gone. */
function goneNote(checked: ResolutionCheck | undefined, n: number): string {
  if (!checked) return '';
  const where = checked.alertmanagers.slice(0, 5).map((url) => codeSpan(url, 120)).join(', ');
  return ` Alertmanager (${where}) no longer had ${n === 1 ? 'it' : 'them'} when checked ${slackDate(checked.at)}; no resolution was notified (silenced, or lost).`;
}

/** `text`, then one line per alert with the labels that tell it apart (ten at most, then a count). */
function withAlertList(text: string, fingerprints: readonly string[], view: IncidentView): { text: string; blocks?: KnownBlock[] } {
  if (fingerprints.length === 0) return { text };
  const byFingerprint = new Map(view.alerts.map((a) => [a.fingerprint, a]));
  const lines = fingerprints.slice(0, MAX_LISTED_ALERTS).map((fingerprint) => {
    const alert = byFingerprint.get(fingerprint);
    return alert ? describeAlert(alert, view) : codeSpan(fingerprint, 40);
  });
  const hidden = fingerprints.length - lines.length;
  let list = fitLines(lines, TEXT_BUDGET - 60, (left) => `_…and ${count(left + hidden)} more_`);
  if (hidden > 0 && !list.includes('more_')) list += `\n_…and ${count(hidden)} more_`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'section', text: { type: 'mrkdwn', text: list, verbatim: true } },
    ] satisfies KnownBlock[],
  };
}

function runFinished(event: Extract<TimelineEvent, { kind: 'run_finished' }>) {
  const target = event.target ? ` ${codeSpan(event.target, 80)}` : '';
  const ref = event.ref ? ` (ref ${codeSpan(event.ref, 40)})` : '';
  const head = `${RUN_EMOJI[event.status]} *${escapeAlertText(truncateText(event.actionTitle, 100), 150)}*${target} ${RUN_WORDS[event.status]} — by ${actor(event.by)}${ref}`;
  const summary = cutMrkdwn(event.summary.trim(), TEXT_BUDGET - head.length - 1);
  const text = summary ? `${head}\n${summary}` : head;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] satisfies KnownBlock[] };
}

function escalated(event: Extract<TimelineEvent, { kind: 'escalated' }>) {
  const targets = event.targets.slice(0, MAX_TARGETS).map((t) => (MENTION.test(t) ? t : escapeAlertText(t, 80)));
  const more = event.targets.length > MAX_TARGETS ? ` and ${count(event.targets.length - MAX_TARGETS)} more` : '';
  const who = targets.length ? `: ${targets.join(' ')}${more}` : ' (this level names nobody)';
  if (event.due && event.due.length > 1) {
    // Levels that fell due together page together: each level's people, named by level.
    const byLevel = event.due.map((d) => `L${d.level} ${d.targets.length ? d.targets.slice(0, MAX_TARGETS).map((t) => (MENTION.test(t) ? t : escapeAlertText(t, 80))).join(' ') : 'nobody'}`);
    return { text: cutMrkdwn(`📣 Escalated to level ${event.level} of ${event.levels}; levels ${event.due.map((d) => d.level).join(', ')} were due at once: ${byLevel.join(' · ')}`, TEXT_BUDGET) };
  }
  return { text: cutMrkdwn(`📣 Escalated to level ${event.level} of ${event.levels}${who}`, TEXT_BUDGET) };
}

/** Cuts text that is already mrkdwn to `max` characters without cutting a link, mention, entity or code span. */
export const cutMrkdwn = fitMrkdwn;
