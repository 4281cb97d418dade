import type { z } from 'zod';
import type { Catalog, PermissionName, ServiceConfig } from '../config/catalog-schema.js';
import type { BackupRunner } from '../integrations/backup/types.js';
import type { HealthChecker } from '../integrations/health/index.js';
import type { ConnectionsSummary, KillOutcome, LongQuery } from '../integrations/postgres/diagnostics.js';
import type { PostgresTarget } from '../integrations/postgres/schema.js';
import type { CircuitBreakers, RedisBgsaveOptions, RedisBgsaveResult, RedisMemorySummary } from '../integrations/redis/index.js';
import type { Restarter } from '../integrations/restart/index.js';
import type { IncidentDesk } from '../alerts/incident-desk.js';
import type { OnCallOverrides } from '../alerts/escalation/oncall-overrides.js';
import type { Silencer } from '../integrations/alertmanager/index.js';
import type { BackupsRepository } from '../store/backups-repository.js';
import type { Reply } from './reply.js';

export type Risk = 'read' | 'change' | 'destructive';

/** Who asked: a Slack user, or Switchboard itself for automations and schedules. */
export interface Actor {
  id: string;
  name?: string;
  kind: 'user' | 'automation';
}

/** The ports actions use; `main.ts` builds the real ones, tests may pass others. */
export interface ActionDeps {
  catalog: Catalog;
  health: HealthChecker;
  restarter: Restarter;
  circuitBreakers: CircuitBreakers;
  backupRunner: BackupRunner;
  backups: BackupsRepository;
  redis: {
    bgsave(url: string, options: RedisBgsaveOptions): Promise<RedisBgsaveResult>;
    memory(url: string, options: { signal?: AbortSignal }): Promise<RedisMemorySummary>;
  };
  postgres: {
    connections(target: PostgresTarget, options: { signal?: AbortSignal }): Promise<ConnectionsSummary>;
    longQueries(target: PostgresTarget, options: { olderThanMs?: number; signal?: AbortSignal }): Promise<LongQuery[]>;
    killLongQueries(target: PostgresTarget, options: { olderThanMs?: number; signal?: AbortSignal }): Promise<KillOutcome>;
  };
  incidents: IncidentDesk;
  /** Alertmanager's API, when the catalog names one (`alertmanager:`). */
  silencer: Silencer | undefined;
  /** Stand-ins for on-call schedules (`/ops oncall override`). */
  oncall: OnCallOverrides;
  now: () => Date;
  newId: () => string;
}

export interface RunContext<Input> {
  input: Input;
  deps: ActionDeps;
  actor: Actor;
  /** Aborted at the action's timeout or at shutdown; pass it to every I/O call. */
  signal: AbortSignal;
  ref: string;
  /** Reports how a long run is going, e.g. "dumping (1m 20s)"; shown in Slack by the caller. */
  progress: (text: string) => void;
}

export interface ActionOutcome {
  ok: boolean;
  /** One line for the audit record. */
  summary: string;
  reply: Reply;
}

/** A positional argument of a slash verb; `service` arguments are checked against the catalog before dispatch. */
export interface SlashArg {
  name: string;
  kind?: 'service' | 'text';
  optional?: boolean;
  /** The last argument may take every remaining word (a comment). */
  rest?: boolean;
}

export interface SlashBinding {
  /** One or two words: `health`, `circuit reset`. */
  verb: string;
  args: SlashArg[];
  /** Flag name → description; the input key is the flag name in camelCase. */
  flags?: Record<string, string>;
  examples?: string[];
}

export interface ActionDefinition<Schema extends z.ZodType = z.ZodType> {
  /** Stable id, kept in old Slack messages for months: never rename. */
  id: string;
  title: string;
  description: string;
  risk: Risk;
  permission: PermissionName;
  input: Schema;
  /** Bound on the whole run; a function when it depends on the service's own timeouts. */
  timeoutMs: number | ((input: z.output<Schema>, deps: ActionDeps) => number);
  /** Default minimum time between two successful runs on one target; the catalog may override it. */
  cooldownMs?: number;
  /** One sentence for the confirmation prompt of a destructive action: exactly what will happen. */
  confirmText?: (input: z.output<Schema>, deps: ActionDeps) => string;
  /** What the run acts on (a service id), for the audit record and, later, locking. */
  target: (input: z.output<Schema>) => string | undefined;
  /**
   * The named things of a service the action picks among (its backups, its circuit breakers):
   * for a service with several, an incident gets one runbook button per thing, `key` naming it.
   */
  choices?: { key: string; of: (service: ServiceConfig) => ReadonlyArray<{ name: string }> };
  slash?: SlashBinding;
  run: (ctx: RunContext<z.output<Schema>>) => Promise<ActionOutcome>;
}

export type AnyAction = ActionDefinition<z.ZodType>;

export const defineAction = <Schema extends z.ZodType>(action: ActionDefinition<Schema>): AnyAction => action as unknown as AnyAction;
