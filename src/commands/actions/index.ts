import type { AnyAction } from '../action.js';
import { serviceHealth } from './service-health.js';

/** Every action Switchboard knows, in the order `/ops help` lists them. */
export const allActions: readonly AnyAction[] = [serviceHealth];
