import { preflight } from '../alerts/escalation/preflight.js';
import type { Catalog } from './catalog-schema.js';
import { formatDuration } from './duration.js';

/** A short, human summary of a valid catalog, for `switchboard check`. */
export function describeCatalog(catalog: Catalog): string {
  const services = Object.entries(catalog.services);
  const lines = [`${services.length} service${services.length === 1 ? '' : 's'}:`];
  for (const [id, service] of services) {
    const kinds = service.health.map((c) => c.kind);
    const counted = [...new Set(kinds)].map((k) => `${kinds.filter((x) => x === k).length} ${k}`).join(', ');
    lines.push(`  ${id} (${service.name}): ${service.health.length ? `health checks: ${counted}` : 'no health checks'}`);
  }
  const roles = Object.entries(catalog.roles);
  lines.push(
    roles.length
      ? `${roles.length} role${roles.length === 1 ? '' : 's'}: ${roles.map(([id, r]) => `${id} (${r.permissions.join(', ')}; ${r.users.length} users, ${r.usergroups.length} groups)`).join('; ')}`
      : 'No roles: everyone in the workspace may run every action.',
  );
  return lines.join('\n');
}

/**
 * Escalation preflight for `switchboard check`: who each level would page right now, and what
 * could leave an incident unanswered (nobody on call now or in the next 14 days). Offline, so
 * overrides in the database and Slack ids are not checked; the text says so.
 */
export function describeEscalation(catalog: Catalog, now: Date): string {
  const policies = Object.entries(catalog.escalationPolicies);
  if (policies.length === 0) return 'No escalation policies: incidents are posted, and nobody is paged.';
  const levels = preflight(catalog.escalationPolicies, catalog.schedules, catalog.severityPolicies, {}, now);
  const routes = (policy: string) => [
    ...catalog.routes.filter((r) => r.escalation === policy).map((r) => r.name),
    ...(catalog.defaultRoute?.escalation === policy ? ['defaultRoute'] : []),
  ];
  const lines = [`Escalation: who each level would page now (${now.toISOString().slice(0, 16).replace('T', ' ')} UTC):`];
  let warnings = 0;
  for (const [name, policy] of policies) {
    const severities = Object.entries(catalog.severityPolicies).filter(([, p]) => p === name).map(([severity]) => `severity ${severity}`);
    const usedBy = [...severities, ...routes(name).map((r) => `route ${r}`)];
    lines.push(`  ${name}${usedBy.length ? ` (${usedBy.join(', ')})` : ' (named by no route or severity)'}:`);
    if (policy.levels.length === 0) lines.push('    no levels: incidents are posted and nobody is paged');
    for (const level of levels.filter((l) => l.policy === name)) {
      const delay = policy.levels[level.level]?.delay ?? 0;
      lines.push(`    L${level.level + 1} ${delay === 0 ? 'at once' : `after ${formatDuration(delay)}`}: ${level.who.length ? level.who.join(', ') : 'nobody'}`);
      for (const warning of level.warnings) lines.push(`      ! ${warning}`);
      warnings += level.warnings.length;
    }
  }
  const unpaged = ['critical', 'error', 'warning'].filter((s) => !Object.hasOwn(catalog.severityPolicies, s));
  if (unpaged.length > 0) lines.push(`  Severities ${unpaged.join(', ')} have no severityPolicies entry: their incidents page only when their route names a policy.`);
  lines.push(
    `  ${warnings === 0 ? 'No gaps in the next 14 days. ' : ''}Checked offline: Slack user and group ids are not looked up (an id that is not in your workspace pages nobody), and overrides set with /ops oncall override are not seen; /ops oncall shows them.`,
  );
  return lines.join('\n');
}
