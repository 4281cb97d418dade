import { z } from 'zod';
import { CatalogId } from '../../config/catalog-schema.js';
import { formatCircuitStatus } from '../../integrations/redis/index.js';
import { defineAction, type ActionDeps } from '../action.js';
import { pickNamed, requireService } from '../require-service.js';
import { ownValue } from '../../config/own.js';

const Input = z.object({ service: CatalogId, breaker: CatalogId.optional() }).strict();

function breakerOf(deps: ActionDeps, input: z.output<typeof Input>, verb: string) {
  const service = requireService(deps.catalog, input.service);
  return pickNamed(input.service, service.circuitBreakers, input.breaker, {
    label: 'circuit breaker',
    key: 'circuitBreakers',
    usage: `circuit ${verb} ${input.service} <breaker>`,
  });
}

const args = [
  { name: 'service', kind: 'service' as const },
  { name: 'breaker', optional: true },
];

export const circuitStatus = defineAction({
  id: 'circuit.status',
  title: 'Circuit breaker status',
  description: 'show a circuit breaker kept in Redis: state, failures, open since',
  risk: 'read',
  permission: 'read',
  input: Input,
  timeoutMs: 15_000,
  target: (input) => input.service,
  choices: { key: 'breaker', of: (service) => service.circuitBreakers ?? [] },
  slash: { verb: 'circuit status', args, examples: ['circuit status api-gateway'] },
  async run({ input, deps, signal }) {
    const breaker = breakerOf(deps, input, 'status');
    const status = await deps.circuitBreakers.status(breaker, { signal });
    const text = `Circuit breaker \`${breaker.name}\` of \`${input.service}\` (\`${breaker.key}\`): ${formatCircuitStatus(status, deps.now())}`;
    return { ok: true, summary: `${breaker.name}: ${status.state}`, reply: { text } };
  },
});

export const circuitReset = defineAction({
  id: 'circuit.reset',
  title: 'Reset circuit breaker',
  description: 'reset a circuit breaker (delete or close its Redis key), then probe the service',
  risk: 'destructive',
  permission: 'operate',
  input: Input,
  timeoutMs: 30_000,
  target: (input) => input.service,
  choices: { key: 'breaker', of: (service) => service.circuitBreakers ?? [] },
  confirmText: (input, deps) => {
    const breakers = ownValue(deps.catalog.services, input.service)?.circuitBreakers ?? [];
    const breaker = breakers.find((b) => b.name === input.breaker) ?? (breakers.length === 1 ? breakers[0] : undefined);
    return breaker ? `This ${breaker.reset === 'delete' ? 'deletes' : 'closes'} the Redis key \`${breaker.key}\`.` : '';
  },
  slash: { verb: 'circuit reset', args, examples: ['circuit reset api-gateway'] },
  async run({ input, deps, signal }) {
    const breaker = breakerOf(deps, input, 'reset');
    const outcome = await deps.circuitBreakers.reset(breaker, { signal });
    const probe = outcome.probe;
    const probeLine = probe
      ? probe.ok
        ? `\nProbe ✓ ${breaker.probe?.url ?? ''} answered${probe.status ? ` HTTP ${probe.status}` : ''} in ${Math.round(probe.latencyMs)}ms.`
        : `\nProbe ✗ ${breaker.probe?.url ?? ''}: ${probe.reason ?? 'failed'}. The upstream may still be failing; the breaker can open again.`
      : '';
    const text = `✓ Reset circuit breaker \`${breaker.name}\` of \`${input.service}\`.\nBefore: ${formatCircuitStatus(outcome.before, deps.now())}\nAfter: ${formatCircuitStatus(outcome.after, deps.now())}${probeLine}`;
    return {
      ok: !probe || probe.ok,
      summary: `${breaker.name}: ${outcome.before.state} → ${outcome.after.state}${probe ? `; probe ${probe.ok ? 'ok' : 'failed'}` : ''}`,
      reply: { text, public: true },
    };
  },
});
