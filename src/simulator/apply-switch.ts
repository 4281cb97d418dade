import type { SwitchEffect } from './demo-switches.js';
import type { Simulator } from './start-simulator.js';

/** Does what a demo key does to one system; shared by the demo and the rule-coverage test. */
export function applySwitch(simulator: Simulator, service: string, effect: SwitchEffect): Promise<void> {
  switch (effect.kind) {
    case 'mode':
      return simulator.setMode(service, effect.mode);
    case 'crash':
      return simulator.crash(service);
    case 'condition':
      return simulator.setCondition(service, effect.condition);
    case 'open-breaker':
      return simulator.tripBreaker();
    case 'fail-next-backup':
      return simulator.failNextBackup(service);
  }
}
