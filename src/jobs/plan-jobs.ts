import type { Catalog } from '../config/catalog-schema.js';
import type { HealthChecker } from '../integrations/health/index.js';
import { backupJob } from './backup-job.js';
import { certificateCheckJob } from './certificate-check-job.js';
import { escalationAuditJob, type OverdueEscalationsQuery } from './escalation-audit-job.js';
import { healthReportJob } from './health-report-job.js';
import { notificationRetentionJob } from './notification-retention-job.js';
import type { JobDefinition } from './job.js';
import { reportChannel, serviceChannel } from './job-channel.js';

const NO_CHANNEL = (key: string) => `set jobs.${key}.channel, or a defaultRoute`;

/** The jobs a catalog asks for, and why any it mentions will not run (for the start-up log). */
export function planJobs(catalog: Catalog, ports: { health: HealthChecker; overdueEscalations: OverdueEscalationsQuery }): { jobs: JobDefinition[]; notes: string[] } {
  const jobs: JobDefinition[] = [];
  const notes: string[] = [];
  const config = catalog.jobs;

  if (config.healthReport.enabled) {
    const channel = reportChannel(catalog, config.healthReport.channel);
    if (channel) jobs.push(healthReportJob(config.healthReport, channel));
    else notes.push(`the health report is off: it has no channel (${NO_CHANNEL('healthReport')})`);
  }

  const hasTls = Object.values(catalog.services).some((s) => s.health.some((c) => c.kind === 'tls'));
  if (config.certificateCheck.enabled && hasTls) {
    const channel = reportChannel(catalog, config.certificateCheck.channel);
    if (channel) jobs.push(certificateCheckJob(config.certificateCheck, channel, ports.health));
    else notes.push(`the certificate check is off: it has no channel (${NO_CHANNEL('certificateCheck')})`);
  }

  if (config.escalationAudit.enabled) {
    const channel = reportChannel(catalog, config.escalationAudit.channel);
    if (channel) jobs.push(escalationAuditJob(config.escalationAudit, channel, ports.overdueEscalations));
    else notes.push(`the escalation audit is off: it has no channel (${NO_CHANNEL('escalationAudit')})`);
  }

  if (config.notificationRetention.enabled) jobs.push(notificationRetentionJob(config.notificationRetention));

  for (const [service, serviceConfig] of Object.entries(catalog.services)) {
    for (const backup of serviceConfig.backups ?? []) {
      if (!backup.schedule) continue;
      const channel = serviceChannel(catalog, service);
      // A backup matters even when nobody sees its result: it runs, and says where it cannot report.
      if (!channel) notes.push(`scheduled backup "${backup.name}" of ${service} will not be reported in Slack: no route or defaultRoute gives ${service} a channel`);
      jobs.push(backupJob(service, { ...backup, schedule: backup.schedule }, channel));
    }
  }
  return { jobs, notes };
}
