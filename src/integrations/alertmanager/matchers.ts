import { IntegrationError } from '../integration-error.js';

/** One silence or filter matcher, as Alertmanager's API v2 spells it; `isEqual: false` negates (`!=`, `!~`). */
export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

/** Prometheus' classic label-name rule; Alertmanager 0.25 accepts no other. */
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Generous for a label value; longer ones are not labels but pasted logs. */
const MAX_VALUE_LENGTH = 1_024;

/**
 * Equality matchers for the silence of an incident, made from its group labels (sorted by name).
 * Throws when the labels cannot make a safe silence: no labels at all would silence every alert.
 */
export function matchersFromLabels(groupLabels: Record<string, string>): Matcher[] {
  const entries = Object.entries(groupLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) {
    throw new IntegrationError('This incident has no group labels, so a silence for it would silence every alert.', {
      hint: 'Give the Alertmanager route a group_by (e.g. [alertname, service]), or silence in Alertmanager directly.',
    });
  }
  return entries.map(([name, value]) => {
    if (!LABEL_NAME.test(name)) {
      throw new IntegrationError(`"${excerpt(name)}" is not a label name Alertmanager accepts (letters, digits and "_", not starting with a digit).`);
    }
    if (typeof value !== 'string' || value === '') {
      throw new IntegrationError(`Label ${name} has an empty value; a silence needs a value to match.`);
    }
    if (value.length > MAX_VALUE_LENGTH) {
      throw new IntegrationError(`Label ${name} has a value of ${value.length} characters; at most ${MAX_VALUE_LENGTH} can be silenced.`);
    }
    return { name, value, isRegex: false, isEqual: true };
  });
}

/** `alertname="X", service="y"`: the matchers as Alertmanager and amtool show them. */
export function formatMatchers(matchers: readonly Matcher[]): string {
  return matchers.map(formatMatcher).join(', ');
}

/** One matcher in Alertmanager's filter syntax (`name=~"value"`), also used for `GET /api/v2/alerts?filter=`. */
export function formatMatcher(matcher: Matcher): string {
  const negated = matcher.isEqual === false;
  const op = matcher.isRegex ? (negated ? '!~' : '=~') : negated ? '!=' : '=';
  return `${matcher.name}${op}"${escapeValue(matcher.value)}"`;
}

/** The escapes Alertmanager's matcher parser undoes inside double quotes. */
function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function excerpt(text: string): string {
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
