import type { Catalog } from './catalog-schema.js';

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
