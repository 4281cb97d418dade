import { z } from 'zod';
import { slackDate } from '../../alerts/mrkdwn.js';
import { CatalogId } from '../../config/catalog-schema.js';
import { formatDuration } from '../../config/duration.js';
import type { Backup } from '../../integrations/backup/schema.js';
import type { BackupOutcome } from '../../integrations/backup/types.js';
import { formatBytes } from '../../integrations/redis/index.js';
import { IntegrationError } from '../../integrations/integration-error.js';
import { defineAction, type ActionDeps, type RunContext } from '../action.js';
import { pickNamed, requireService } from '../require-service.js';
import { ownValue } from '../../config/own.js';

const Input = z.object({ service: CatalogId, target: CatalogId.optional() }).strict();
type BackupInput = z.output<typeof Input>;

function backupOf(deps: ActionDeps, input: BackupInput): Backup {
  const service = requireService(deps.catalog, input.service);
  return pickNamed(input.service, service.backups, input.target, { label: 'backup', key: 'backups', usage: `backup ${input.service} <target>` });
}

/** Runs one backup of whichever kind; a Redis backup is a BGSAVE that must advance LASTSAVE. */
async function runBackup(backup: Backup, ctx: RunContext<BackupInput>): Promise<BackupOutcome> {
  const { deps, signal, progress, input } = ctx;
  if (backup.kind === 'redis') {
    const result = await deps.redis.bgsave(backup.url, { signal, timeoutMs: backup.timeout, onProgress: (ms) => progress(`saving (${formatDuration(ms)})`) });
    if (result.status !== 'ok') throw new IntegrationError(`Redis BGSAVE failed: ${result.reason ?? 'rdb_last_bgsave_status is err'}`, { hint: 'Check the Redis log and that its `dir` is writable.' });
    return { durationMs: result.durationMs, verified: true, pruned: [], detail: `BGSAVE ${result.joined ? 'already running, finished' : 'finished'}; LASTSAVE ${result.lastSave.toISOString()}` };
  }
  return deps.backupRunner.run(backup, { signal, serviceId: input.service, now: deps.now, onProgress: (p) => progress(`${p.phase} (${formatDuration(p.elapsedMs)})`) });
}

export const backupStart = defineAction({
  id: 'backup.start',
  title: 'Start backup',
  description: 'back up a service now (pg_dump, Redis BGSAVE or the configured command) and verify it',
  risk: 'change',
  permission: 'operate',
  input: Input,
  timeoutMs: (input, deps) => {
    const backups = ownValue(deps.catalog.services, input.service)?.backups ?? [];
    return Math.max(60_000, ...backups.map((b) => b.timeout)) + 30_000;
  },
  target: (input) => input.service,
  choices: { key: 'target', of: (service) => service.backups ?? [] },
  slash: { verb: 'backup', args: [{ name: 'service', kind: 'service' }, { name: 'target', optional: true }], examples: ['backup brownie-metadata', 'backup selextract database'] },
  async run(ctx) {
    const { input, deps, ref } = ctx;
    const backup = backupOf(deps, input);
    const id = deps.newId();
    const startedAt = deps.now();
    await deps.backups.start({ id, runRef: ref, service: input.service, target: backup.name, kind: backup.kind, startedAt });
    try {
      const outcome = await runBackup(backup, ctx);
      await deps.backups.finish(id, {
        status: 'succeeded',
        finishedAt: deps.now(),
        durationMs: outcome.durationMs,
        detail: outcome.detail,
        verified: outcome.verified,
        ...(outcome.file ? { file: outcome.file } : {}),
        ...(outcome.bytes !== undefined ? { bytes: outcome.bytes } : {}),
        ...(outcome.sha256 ? { sha256: outcome.sha256 } : {}),
      });
      const size = outcome.bytes !== undefined ? `, ${formatBytes(outcome.bytes)}` : '';
      const file = outcome.file ? `\n\`${outcome.file}\`${outcome.sha256 ? ` sha256 \`${outcome.sha256.slice(0, 16)}…\`` : ''}` : '';
      const pruned = outcome.pruned.length ? `\nRetention removed ${outcome.pruned.length} older backup${outcome.pruned.length === 1 ? '' : 's'}.` : '';
      const verified = outcome.verified ? 'verified' : 'not verifiable';
      return {
        ok: true,
        summary: `${backup.name}: ${outcome.detail}`,
        reply: { text: `✓ Backup \`${backup.name}\` of \`${input.service}\` done in ${formatDuration(outcome.durationMs)}${size} (${verified}).${file}${pruned}`, public: true },
      };
    } catch (error) {
      await deps.backups.finish(id, { status: 'failed', finishedAt: deps.now(), durationMs: deps.now().getTime() - startedAt.getTime(), detail: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  },
});

/**
 * The `/ops backup` commands that would run for this service: the bare command only when it
 * has a single backup, since with several `backupStart` asks which one (TARGET_AMBIGUOUS).
 */
export function startHint(serviceId: string, backups: readonly Backup[], target?: string): string {
  if (backups.length === 0) return `\`${serviceId}\` has no backups configured: add them under \`backups:\` in the catalog.`;
  const targets = target !== undefined && backups.some((b) => b.name === target) ? [target] : backups.length === 1 ? [undefined] : backups.map((b) => b.name);
  const commands = targets.map((t) => `\`/ops backup ${serviceId}${t === undefined ? '' : ` ${t}`}\``);
  const listed = commands.length > 1 ? `${commands.slice(0, -1).join(', ')} or ${commands.at(-1)!}` : commands[0]!;
  return `${listed} starts one.`;
}

export const backupList = defineAction({
  id: 'backup.list',
  title: 'List backups',
  description: 'list the recent backups of a service with their size, checksum and result',
  risk: 'read',
  permission: 'read',
  input: Input,
  timeoutMs: 15_000,
  target: (input) => input.service,
  slash: { verb: 'backups', args: [{ name: 'service', kind: 'service' }, { name: 'target', optional: true }], examples: ['backups brownie-metadata'] },
  async run({ input, deps }) {
    requireService(deps.catalog, input.service);
    const records = await deps.backups.recent({ service: input.service, ...(input.target ? { target: input.target } : {}), limit: 10 });
    if (records.length === 0) return { ok: true, summary: 'no backups', reply: { text: `No backups of \`${input.service}\`${input.target ? ` \`${input.target}\`` : ''} recorded yet. ${startHint(input.service, deps.catalog.services[input.service]?.backups ?? [], input.target)}` } };
    const lines = records.map((r) => {
      const icon = r.status === 'succeeded' ? '✓' : r.status === 'failed' ? '✗' : '⏳';
      const when = slackDate(r.startedAt);
      const size = r.bytes !== null ? ` ${formatBytes(r.bytes)}` : '';
      const took = r.durationMs !== null ? ` in ${formatDuration(r.durationMs)}` : '';
      return `${icon} \`${r.target}\` ${when}${size}${took}${r.status === 'failed' ? ` — ${r.detail ?? ''}` : ''}`;
    });
    return { ok: true, summary: `${records.length} backups`, reply: { text: [`*Recent backups of \`${input.service}\`*`, ...lines].join('\n') } };
  },
});
