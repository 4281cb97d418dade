/**
 * Reconciliation runs once per interval whatever the number of instances: the claim is the
 * store's (`reconcile_runs`), and an outage is logged once, by whichever instance sees it first.
 */
import { describe, expect, it } from 'vitest';
import type { AlertmanagerView } from '../../src/alerts/reconcile/alertmanager-view.js';
import { createReconciler } from '../../src/alerts/reconcile/reconciler.js';
import type { Db } from '../../src/store/db.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { useMigratedStore } from '../helpers/migrated-store.js';

const MINUTE = 60_000;

describe('reconciliation across instances on PostgreSQL', () => {
  let db: Db;
  useMigratedStore('PostgreSQL', (opened) => (db = opened));

  it('asks Alertmanager once per interval from any number of instances, and logs an outage once', async () => {
    const clock = { now: new Date('2026-03-03T10:00:00Z') };
    const calls: string[] = [];
    const view: AlertmanagerView = {
      url: 'http://127.0.0.1:9093',
      alerts: () => {
        calls.push('alerts');
        return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9093'));
      },
      silence: () => Promise.reject(new Error('not asked')),
    };
    const { logger, lines } = capturedLogger();
    const instances = ['a', 'b', 'c'].map((instance) =>
      createReconciler({ db, alertmanagers: [view], onIncidentChanged: () => Promise.resolve(), now: () => clock.now, logger, intervalMs: MINUTE, goneAfterMs: 0, instance }),
    );
    for (let minute = 0; minute < 3; minute++) {
      clock.now = new Date(clock.now.getTime() + MINUTE);
      await Promise.all(instances.map((r) => r.tickNow()));
      await Promise.all(instances.map((r) => r.tickNow()));
      expect(calls).toHaveLength(minute + 1);
    }
    expect(lines.filter((l) => l.includes('does not answer'))).toHaveLength(1);
  });
});
