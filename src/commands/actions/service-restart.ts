import { z } from 'zod';
import { CatalogId, type ServiceConfig } from '../../config/catalog-schema.js';
import { formatDuration } from '../../config/duration.js';
import { formatCheckLine, summarize, type CheckResult } from '../../integrations/health/index.js';
import type { RestartConfig } from '../../integrations/restart/index.js';
import { defineAction, type ActionDeps } from '../action.js';
import { UserError } from '../errors.js';
import { requireService } from '../require-service.js';
import { ownValue } from '../../config/own.js';

const DEFAULT_VERIFY = { timeout: 60_000, interval: 2_000 };

function restartOf(deps: ActionDeps, serviceId: string): { service: ServiceConfig; restart: RestartConfig } {
  const service = requireService(deps.catalog, serviceId);
  if (!service.restart) throw new UserError('NOT_CONFIGURED', { service: serviceId, what: 'restart method', key: 'restart' });
  return { service, restart: service.restart };
}

/** The seeds' "restart, wait, curl /health": re-run the health checks until healthy or out of time. */
async function waitUntilHealthy(
  deps: ActionDeps,
  service: ServiceConfig,
  verify: { timeout: number; interval: number },
  signal: AbortSignal,
  progress: (text: string) => void,
): Promise<{ results: CheckResult[]; healthy: boolean; afterMs: number }> {
  const started = Date.now();
  for (;;) {
    const results = await deps.health.check(service.health, { signal });
    const afterMs = Date.now() - started;
    if (summarize(results) !== 'fail') return { results, healthy: true, afterMs };
    if (afterMs + verify.interval > verify.timeout || signal.aborted) return { results, healthy: false, afterMs };
    progress(`waiting for health (${formatDuration(afterMs)})`);
    await new Promise((resolve) => setTimeout(resolve, verify.interval));
  }
}

export const serviceRestart = defineAction({
  id: 'service.restart',
  title: 'Restart',
  description: 'restart a service the way the catalog says, then wait until its health checks pass',
  risk: 'destructive',
  permission: 'operate',
  input: z.object({ service: CatalogId }).strict(),
  timeoutMs: ({ service }, deps) => {
    const restart = ownValue(deps.catalog.services, service)?.restart;
    return (restart?.timeout ?? 60_000) + (restart?.verify?.timeout ?? DEFAULT_VERIFY.timeout) + 15_000;
  },
  target: (input) => input.service,
  confirmText: ({ service }, deps) => {
    const restart = ownValue(deps.catalog.services, service)?.restart;
    return restart ? `This restarts it through ${restart.kind}, then waits until its health checks pass.` : '';
  },
  slash: { verb: 'restart', args: [{ name: 'service', kind: 'service' }], examples: ['restart api-gateway'] },
  async run({ input, deps, signal, progress }) {
    const { service, restart } = restartOf(deps, input.service);
    progress('restarting');
    const outcome = await deps.restarter.restart(restart, { signal });
    if (service.health.length === 0) {
      return { ok: true, summary: outcome.detail, reply: { text: `✓ Restarted \`${input.service}\`: ${outcome.detail}. It has no health checks to confirm it came back.`, public: true } };
    }
    progress('waiting for health');
    const verify = restart.verify ?? DEFAULT_VERIFY;
    const { results, healthy, afterMs } = await waitUntilHealthy(deps, service, verify, signal, progress);
    const lines = results.map(formatCheckLine).join('\n');
    const text = healthy
      ? `✓ Restarted \`${input.service}\` (${outcome.detail}); healthy after ${formatDuration(afterMs)}.\n${lines}`
      : `⚠ Restarted \`${input.service}\` (${outcome.detail}), but it is still unhealthy after ${formatDuration(afterMs)}.\n${lines}`;
    return {
      ok: healthy,
      summary: healthy ? `${outcome.detail}; healthy after ${formatDuration(afterMs)}` : `${outcome.detail}; still unhealthy after ${formatDuration(afterMs)}`,
      reply: { text, public: true },
    };
  },
});
