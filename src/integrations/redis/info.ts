import { ownValue } from '../../config/own.js';

/**
 * Parses the text of `INFO [section]`: "# Section" headers, "field:value" lines separated by CRLF.
 * Values may themselves contain ":" (`executable:/usr/bin/redis-server`), so only the first one splits.
 */
export function parseRedisInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** A numeric INFO field, or undefined when absent or not a number. */
export function infoNumber(info: Record<string, string>, field: string): number | undefined {
  const text = ownValue(info, field);
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
