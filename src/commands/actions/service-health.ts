import { z } from 'zod';
import { CatalogId } from '../../config/catalog-schema.js';
import { formatCheckLine, summarize, type CheckResult, type CheckStatus } from '../../integrations/health/index.js';
import { defineAction } from '../action.js';
import { UserError } from '../errors.js';
import { escapeMrkdwn } from '../reply.js';
import { requireService } from '../require-service.js';

const ICON: Record<CheckStatus, string> = { ok: '✓', warn: '⚠', fail: '✗' };

function serviceLine(id: string, results: CheckResult[]): string {
  if (results.length === 0) return `• \`${id}\` — no health checks configured`;
  const status = summarize(results);
  const bad = results.filter((r) => r.status !== 'ok');
  const detail =
    bad.length === 0
      ? `${results.length}/${results.length} checks ok`
      : bad.map((r) => `${r.name}: ${escapeMrkdwn(r.reason ?? r.detail ?? r.status)}`).join('; ');
  return `${ICON[status]} \`${id}\` — ${detail}`;
}

const STATE: Record<CheckStatus, string> = { ok: 'healthy', warn: 'degraded', fail: 'unhealthy' };

/**
 * What a health run found, e.g. "2 of 3 checks fail (api, redis)": the count says how bad,
 * the names where to look. A run that finds a service unhealthy still succeeded, so its
 * reply and audit line must carry the finding, not only the run's outcome.
 */
export function describeFindings(results: readonly CheckResult[]): string {
  const total = results.length;
  const failing = results.filter((r) => r.status === 'fail').map((r) => r.name);
  const warning = results.filter((r) => r.status === 'warn').map((r) => r.name);
  const of = (n: number, verb: [string, string]) => `${n} of ${total} check${total === 1 ? '' : 's'} ${n === 1 ? verb[0] : verb[1]}`;
  if (failing.length === 0 && warning.length === 0) return total === 1 ? 'its 1 check passes' : `all ${total} checks pass`;
  const parts = [
    ...(failing.length ? [`${of(failing.length, ['fails', 'fail'])} (${failing.join(', ')})`] : []),
    ...(warning.length ? [`${failing.length ? `${warning.length} ${warning.length === 1 ? 'warns' : 'warn'}` : of(warning.length, ['warns', 'warn'])} (${warning.join(', ')})`] : []),
  ];
  return parts.join('; ');
}

export const serviceHealth = defineAction({
  id: 'service.health',
  title: 'Check health',
  description: 'run the health checks of one service, or summarize every service',
  risk: 'read',
  permission: 'read',
  input: z.object({ service: CatalogId.optional() }).strict(),
  // Each check carries its own timeout (at most 60 s); this only bounds a misbehaving integration.
  timeoutMs: 75_000,
  target: (input) => input.service,
  slash: { verb: 'health', args: [{ name: 'service', kind: 'service', optional: true }], examples: ['health', 'health api-gateway'] },
  async run({ input, deps, signal }) {
    if (input.service) {
      const service = requireService(deps.catalog, input.service);
      if (service.health.length === 0) throw new UserError('SERVICE_HAS_NO_CHECKS', { service: input.service });
      const results = await deps.health.check(service.health, { signal });
      const status = summarize(results);
      const findings = describeFindings(results);
      const heading = `${ICON[status]} *${escapeMrkdwn(service.name)}* (\`${input.service}\`) is ${STATE[status]}: ${escapeMrkdwn(findings)}`;
      const text = [heading, ...results.map(formatCheckLine)].join('\n');
      // The run succeeded when it found out the truth; an unhealthy service is its finding, not its failure.
      return {
        ok: true,
        summary: `${input.service} is ${STATE[status]}: ${findings}`,
        reply: { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3_000) } }] },
      };
    }
    const ids = Object.keys(deps.catalog.services);
    const all = await Promise.all(ids.map((id) => deps.health.check(deps.catalog.services[id]!.health, { signal })));
    const lines = ids.map((id, i) => serviceLine(id, all[i]!));
    const unhealthy = ids.filter((_id, i) => all[i]!.length > 0 && summarize(all[i]!) === 'fail');
    const text = [`*Health of ${ids.length} services*`, ...lines].join('\n');
    return {
      ok: true,
      summary: unhealthy.length ? `${unhealthy.length} of ${ids.length} services unhealthy: ${unhealthy.join(', ')}` : `all ${ids.length} services healthy`,
      reply: { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3_000) } }] },
    };
  },
});
