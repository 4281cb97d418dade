import { describe, expect, it } from 'vitest';
import { CatalogError, parseCatalog } from '../../src/config/load-catalog.js';
import { createHealthChecker } from '../../src/integrations/health/index.js';
import { planJobs } from '../../src/jobs/plan-jobs.js';

const SERVICES = `services:
  api:
    name: API
    health:
      - { name: cert, kind: tls, host: api.example.com }
  db:
    name: DB
    backups:
      - { name: nightly, kind: postgres, url: "postgres://backup@127.0.0.1:5432/app", folder: /tmp/sb-backups, schedule: "0 2 * * *", timezone: Europe/Berlin }
      - { name: manual, kind: postgres, url: "postgres://backup@127.0.0.1:5432/app", folder: /tmp/sb-backups }
`;

const catalog = (extra = '') => parseCatalog(`version: 1\n${SERVICES}${extra}`, 'c.yml', {});

function problems(extra: string): Array<{ path: string; message: string }> {
  try {
    catalog(extra);
  } catch (error) {
    if (error instanceof CatalogError) return error.problems.map((p) => ({ path: p.path, message: p.message }));
    throw error;
  }
  return [];
}

const noOverdue = async () => [];
const plan = (extra = '') => planJobs(catalog(extra), { health: createHealthChecker(), overdueEscalations: noOverdue });

describe('catalog jobs:', () => {
  it('has defaults when the key is absent', () => {
    expect(catalog().jobs).toEqual({
      healthReport: { enabled: true, schedule: '0 9 * * *', timezone: 'UTC' },
      certificateCheck: { enabled: true, schedule: '0 8 * * *', timezone: 'UTC', warnDays: [30, 7] },
      escalationAudit: { enabled: true, schedule: '* * * * *', timezone: 'UTC', overdueAfter: 60_000 },
      notificationRetention: { enabled: true, schedule: '30 3 * * *', timezone: 'UTC', keep: 30 * 86_400_000 },
    });
  });

  it('takes schedules, zones, channels and thresholds, and orders thresholds most lenient first', () => {
    const jobs = catalog('jobs:\n  healthReport: { schedule: "30 8 * * 1-5", timezone: Europe/Berlin, channel: C0REPORTS }\n  certificateCheck: { warnDays: [7, 30, 14, 7] }\n  escalationAudit: { enabled: false, overdueAfter: 2m }\n').jobs;
    expect(jobs.healthReport).toEqual({ enabled: true, schedule: '30 8 * * 1-5', timezone: 'Europe/Berlin', channel: 'C0REPORTS' });
    expect(jobs.certificateCheck.warnDays).toEqual([30, 14, 7]);
    expect(jobs.escalationAudit).toMatchObject({ enabled: false, overdueAfter: 120_000 });
  });

  it('reports bad schedules, zones, channels and keys with their paths', () => {
    const found = problems(
      'jobs:\n  healthReport: { schedule: "0 25 * * *", timezone: Mars/Olympus, channel: reports }\n  certificateCheck: { warnDays: [] }\n  escalationAudit: { every: 1m }\n  nightly: {}\n',
    );
    const byPath = Object.fromEntries(found.map((p) => [p.path, p.message]));
    expect(byPath['jobs.healthReport.schedule']).toContain('hour');
    expect(byPath['jobs.healthReport.timezone']).toContain('IANA time zone');
    expect(byPath['jobs.healthReport.channel']).toContain('channel id');
    expect(byPath['jobs.certificateCheck.warnDays']).toContain('at least one threshold');
    expect(byPath['jobs.escalationAudit.every']).toContain('not a known setting');
    expect(byPath['jobs.nightly']).toContain('not a known setting');
  });
});

describe('planJobs', () => {
  it('schedules every job that has a channel, and each scheduled backup on its own schedule', () => {
    const { jobs, notes } = plan('defaultRoute: { channel: C0DEFAULT }\n');
    expect(jobs.map((j) => [j.name, j.schedule, j.timezone, j.channel])).toEqual([
      ['healthReport', '0 9 * * *', 'UTC', 'C0DEFAULT'],
      ['certificateCheck', '0 8 * * *', 'UTC', 'C0DEFAULT'],
      ['escalationAudit', '* * * * *', 'UTC', 'C0DEFAULT'],
      // It posts nothing, so it needs no channel.
      ['notificationRetention', '30 3 * * *', 'UTC', undefined],
      ['backup:db:nightly', '0 2 * * *', 'Europe/Berlin', 'C0DEFAULT'],
    ]);
    expect(notes).toEqual([]);
  });

  it("reports a backup in the channel of its service's route, and a report in the job's own channel", () => {
    const { jobs } = plan(
      'defaultRoute: { channel: C0DEFAULT }\nroutes:\n  - { name: db, match: { service: db }, channel: C0DATABASE }\njobs:\n  healthReport: { channel: C0REPORTS }\n',
    );
    const channels = Object.fromEntries(jobs.map((j) => [j.name, j.channel]));
    expect(channels).toMatchObject({ healthReport: 'C0REPORTS', certificateCheck: 'C0DEFAULT', 'backup:db:nightly': 'C0DATABASE' });
  });

  it('says why a job will not run instead of running it with nowhere to post', () => {
    const { jobs, notes } = plan('jobs:\n  healthReport: { channel: C0REPORTS }\n  certificateCheck: { enabled: false }\n');
    expect(jobs.map((j) => j.name)).toEqual(['healthReport', 'notificationRetention', 'backup:db:nightly']);
    expect(notes).toEqual([
      'the escalation audit is off: it has no channel (set jobs.escalationAudit.channel, or a defaultRoute)',
      'scheduled backup "nightly" of db will not be reported in Slack: no route or defaultRoute gives db a channel',
    ]);
  });
});
