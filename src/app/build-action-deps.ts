import { randomUUID } from 'node:crypto';
import type { IncidentDesk } from '../alerts/incident-desk.js';
import type { OnCallOverrides } from '../alerts/escalation/oncall-overrides.js';
import type { ActionDeps } from '../commands/action.js';
import type { Catalog } from '../config/catalog-schema.js';
import { createAlertmanagerClient } from '../integrations/alertmanager/index.js';
import { createBackupRunner } from '../integrations/backup/create-backup-runner.js';
import { createHealthChecker } from '../integrations/health/index.js';
import { connections, killLongQueries, longQueries } from '../integrations/postgres/diagnostics.js';
import { createRedisCircuitBreakers, redisBgsave, redisMemory } from '../integrations/redis/index.js';
import { createRestarter } from '../integrations/restart/index.js';
import type { BackupsRepository } from '../store/backups-repository.js';

/** The real adapters behind every port the actions use. */
export function buildActionDeps(options: { catalog: Catalog; backups: BackupsRepository; incidents: IncidentDesk; oncall: OnCallOverrides; env: Readonly<Record<string, string | undefined>> }): ActionDeps {
  const { catalog } = options;
  return {
    catalog,
    health: createHealthChecker(),
    restarter: createRestarter({ env: options.env }),
    circuitBreakers: createRedisCircuitBreakers(),
    backupRunner: createBackupRunner(),
    backups: options.backups,
    redis: { bgsave: redisBgsave, memory: redisMemory },
    postgres: { connections, longQueries, killLongQueries },
    incidents: options.incidents,
    silencer: catalog.alertmanager ? createAlertmanagerClient(catalog.alertmanager) : undefined,
    oncall: options.oncall,
    now: () => new Date(),
    newId: randomUUID,
  };
}
