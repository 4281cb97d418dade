/**
 * Golden files of the renderers outside the incident thread: the page DM, the reminder, the
 * nobody-to-page warning, `/ops oncall`, the confirmation prompt and `/ops help`.
 */
import { describe, expect, it } from 'vitest';
import type { EscalationIncident } from '../../src/alerts/escalation/escalation-store.js';
import { renderNobodyWarning, renderPageDm, renderReminder } from '../../src/alerts/escalation/render-escalation.js';
import { renderOnCall } from '../../src/alerts/escalation/render-oncall.js';
import { allActions } from '../../src/commands/actions/index.js';
import { renderHelp, renderVerbHelp } from '../../src/commands/help.js';
import { createRegistry } from '../../src/commands/registry.js';
import { renderConfirmation } from '../../src/commands/render-confirmation.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { ESCALATION_CATALOG } from '../fixtures/escalation/world.js';
import { expectGolden } from '../helpers/golden.js';
import { validateMessage } from '../fakes/block-kit-limits.js';

const NOW = new Date('2026-03-03T10:30:00Z');
const incident: EscalationIncident = {
  id: '6f1c2d3e-4a5b-4c6d-8e7f-901234567890',
  number: 42,
  status: 'firing',
  severity: 'critical',
  title: 'ServiceDown',
  service: 'api-gateway',
  channel: 'C0GATEWAY',
  commonLabels: { alertname: 'ServiceDown', service: 'api-gateway', severity: 'critical' },
  groupLabels: { alertname: 'ServiceDown', service: 'api-gateway' },
  openedAt: new Date(NOW.getTime() - 20 * 60_000),
};
const registry = createRegistry(allActions);
const action = (id: string) => {
  const found = allActions.find((a) => a.id === id);
  if (!found) throw new Error(`no action ${id}`);
  return found;
};

describe('escalation messages', () => {
  it('pages by DM with an Acknowledge button', () => {
    const dm = renderPageDm(incident, { level: 2, levels: 4, round: 1, unansweredMs: 15 * 60_000 });
    expect(validateMessage(dm)).toEqual([]);
    expectGolden('page-dm', dm);
  });

  it('reminds the acknowledger in the thread or by DM', () => {
    const acknowledged = { userId: 'U0ONCALL1', at: new Date(NOW.getTime() - 45 * 60_000) };
    expectGolden('reminder', {
      inThread: renderReminder(incident, acknowledged, NOW, { inThread: true }),
      byDm: renderReminder(incident, acknowledged, NOW, { inThread: false }),
    });
  });

  it('warns in the thread when a level pages nobody', () => {
    expectGolden('nobody-warning', renderNobodyWarning({ level: 1, levels: 4, paged: 0 }, ['schedule `nightshift` has nobody on call']));
  });
});

describe('/ops oncall', () => {
  it('lists who is on call in every schedule and at every level', () => {
    const catalog = parseCatalog(ESCALATION_CATALOG, 'escalation.yml', {});
    const text = renderOnCall({ schedules: catalog.schedules, escalationPolicies: catalog.escalationPolicies, severityPolicies: catalog.severityPolicies }, {}, NOW);
    expect(validateMessage({ text })).toEqual([]);
    expectGolden('oncall', text.split('\n'));
  });
});

describe('the confirmation prompt', () => {
  it('names the exact target, escaped, with Confirm and Cancel', () => {
    const prompt = renderConfirmation(action('service.restart'), 'api-gateway', 'docker-compose restart of `api-gateway`; requests in flight fail.', '6f1c2d3e-4a5b-4c6d-8e7f-901234567890', 5);
    expect(validateMessage(prompt)).toEqual([]);
    expectGolden('confirmation', prompt);
  });
});

describe('/ops help', () => {
  it('lists every command from the registry', () => {
    const help = renderHelp(registry);
    expect(validateMessage(help)).toEqual([]);
    expectGolden('help', help.text.split('\n'));
  });

  it('details one command', () => {
    expectGolden('help-restart', renderVerbHelp(action('service.restart')).text.split('\n'));
  });
});
