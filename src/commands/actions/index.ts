import type { AnyAction } from '../action.js';
import { backupList, backupStart } from './backup.js';
import { circuitReset, circuitStatus } from './circuit.js';
import { dbConnections, dbKillLongQueries, dbLongQueries, redisMemory } from './diagnostics.js';
import { incidentAck, incidentList, incidentResolve, silenceCreate, silenceExpire } from './incident.js';
import { oncallOverride, oncallShow } from './oncall.js';
import { serviceHealth } from './service-health.js';
import { serviceRestart } from './service-restart.js';

/** Every action Switchboard knows, in the order `/ops help` lists them. */
export const allActions: readonly AnyAction[] = [
  incidentList,
  incidentAck,
  incidentResolve,
  silenceCreate,
  silenceExpire,
  oncallShow,
  oncallOverride,
  serviceHealth,
  serviceRestart,
  circuitStatus,
  circuitReset,
  backupStart,
  backupList,
  dbConnections,
  dbLongQueries,
  dbKillLongQueries,
  redisMemory,
];
