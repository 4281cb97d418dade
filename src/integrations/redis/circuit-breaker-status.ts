import { formatDuration } from '../../config/duration.js';

export type CircuitState = 'open' | 'closed' | 'half-open' | 'unknown';

/** What a circuit breaker's Redis key says, read without writing. */
export interface CircuitStatus {
  exists: boolean;
  state: CircuitState;
  failures?: number;
  openedAt?: Date;
  /** The raw fields (hash), the JSON fields or `{ value }` (string); empty when the key is absent. */
  fields: Record<string, string>;
  /** Seconds until the key expires; absent when it has no expiry. */
  ttlSeconds?: number;
}

/** Field names gateways commonly use, in order of preference; matched case-insensitively. */
export const STATE_FIELDS = ['state', 'status'] as const;
export const FAILURE_FIELDS = ['failures', 'failure_count', 'failurecount'] as const;
const OPENED_FIELDS = ['opened_at', 'open_since', 'openedat', 'last_failure_time'] as const;

/**
 * An absent key: every gateway in the seeds treats it as a fresh, closed breaker, and deleting it
 * is how the runbook resets one.
 */
export function absentCircuit(): CircuitStatus {
  return { exists: false, state: 'closed', fields: {} };
}

/** Reads state, failures and opening time from a hash's fields. */
export function circuitStatusFromFields(fields: Record<string, string>, ttlSeconds?: number): CircuitStatus {
  const stateText = pick(fields, STATE_FIELDS)?.value;
  const failures = parseCount(pick(fields, FAILURE_FIELDS)?.value);
  const openedAt = parseTimestamp(pick(fields, OPENED_FIELDS)?.value);
  return {
    exists: true,
    state: stateText === undefined ? 'unknown' : parseCircuitState(stateText),
    ...(failures === undefined ? {} : { failures }),
    ...(openedAt === undefined ? {} : { openedAt }),
    fields: { ...fields },
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
  };
}

/** A string key holds either the state itself ("open") or a JSON object with the same fields as a hash. */
export function circuitStatusFromString(value: string, ttlSeconds?: number): CircuitStatus {
  const json = parseJsonObject(value);
  if (json) return circuitStatusFromFields(json, ttlSeconds);
  return { exists: true, state: parseCircuitState(value), fields: { value }, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) };
}

/** "OPEN", "half_open", "Half-Open", "halfopen" → canonical; anything else is "unknown". */
export function parseCircuitState(text: string): CircuitState {
  const word = text.trim().toLowerCase().replace(/[\s_]+/g, '-');
  if (word === 'open') return 'open';
  if (word === 'closed' || word === 'close') return 'closed';
  if (word === 'half-open' || word === 'halfopen') return 'half-open';
  return 'unknown';
}

/** Unix seconds (fractional allowed), unix milliseconds, or ISO 8601; an ISO time without offset is read as UTC. */
export function parseTimestamp(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const number = Number(trimmed);
    if (number <= 0) return undefined;
    // Seconds reach 1e12 only in the year 33658; milliseconds passed it in 2001.
    return new Date(number >= 1e12 ? number : number * 1_000);
  }
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(trimmed)) return undefined;
  const hasTime = /[T ]\d{2}:/.test(trimmed);
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed);
  const normalized = trimmed.replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1');
  const time = Date.parse(hasTime && !hasOffset ? `${normalized}Z` : normalized);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/**
 * One Slack mrkdwn line, e.g. "*open* since 14:02 UTC (7m), 12 failures".
 * `now` is the clock used for "how long"; pass the injected one.
 */
export function formatCircuitStatus(status: CircuitStatus, now: Date = new Date()): string {
  if (!status.exists) return '*closed* (no state in Redis: the key is absent)';
  const parts: string[] = [];
  let head = status.state === 'unknown' ? '*unknown state*' : `*${status.state}*`;
  if (status.state !== 'closed' && status.openedAt) head += ` since ${formatSince(status.openedAt, now)}`;
  parts.push(head);
  if (status.failures !== undefined) parts.push(`${status.failures} failure${status.failures === 1 ? '' : 's'}`);
  if (status.ttlSeconds !== undefined) parts.push(`key expires in ${formatDuration(status.ttlSeconds * 1_000)}`);
  if (status.state === 'unknown') parts.push(`fields: ${previewFields(status.fields)}`);
  return parts.join(', ');
}

function formatSince(openedAt: Date, now: Date): string {
  const iso = openedAt.toISOString();
  const sameDay = iso.slice(0, 10) === now.toISOString().slice(0, 10);
  const clock = `${sameDay ? '' : `${iso.slice(0, 10)} `}${iso.slice(11, 16)} UTC`;
  const elapsed = now.getTime() - openedAt.getTime();
  // A gateway clock ahead of ours would give a negative age; the time alone is still true.
  return elapsed >= 0 ? `${clock} (${formatDuration(elapsed)})` : clock;
}

const PREVIEW_MAX = 150;

/** Fields as `a=1, b=x`; values come from Redis, so they are escaped and kept out of code spans' way. */
function previewFields(fields: Record<string, string>): string {
  const entries = Object.entries(fields);
  if (entries.length === 0) return '(none)';
  let text = entries.map(([key, value]) => `${key}=${value}`).join(', ');
  if (text.length > PREVIEW_MAX) text = `${text.slice(0, PREVIEW_MAX - 1)}…`;
  return `\`${escapeMrkdwn(text).replace(/`/g, "'")}\``;
}

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The first field present among `names`, compared case-insensitively; returns its real name too. */
export function pick(fields: Record<string, string>, names: readonly string[]): { name: string; value: string } | undefined {
  const byLower = new Map(Object.keys(fields).map((name) => [name.toLowerCase(), name]));
  for (const wanted of names) {
    const name = byLower.get(wanted);
    if (name !== undefined) return { name, value: fields[name] as string };
  }
  return undefined;
}

function parseCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  return Number(text);
}

function parseJsonObject(text: string): Record<string, string> | undefined {
  if (!text.trim().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const fields: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === null || typeof item !== 'object') fields[key] = String(item);
    }
    return fields;
  } catch {
    return undefined;
  }
}
