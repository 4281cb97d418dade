import type { Catalog } from '../config/catalog-schema.js';
import { escapeAlertText } from '../alerts/mrkdwn.js';
import type { CheckResult, HealthChecker, TlsHealthCheck } from '../integrations/health/index.js';
import { jobContextBlock, sections, type JobDefinition } from './job.js';
import type { JobsConfig } from './schema.js';

export const CERTIFICATE_CHECK_JOB = 'certificateCheck';

interface Certificate {
  service: string;
  check: TlsHealthCheck;
}

/** A certificate worth a line: under a threshold (`underDays`), or one that could not be checked or has expired. */
export interface CertificateFinding {
  service: string;
  check: string;
  status: 'warn' | 'fail';
  underDays?: number;
  text: string;
}

/**
 * Checks every `tls` health check of every service against each threshold, most lenient first.
 * The health checker is reused as is: a check run with `warnDays: N` warns exactly when its
 * certificate expires within N days, so only the ones still warning are checked again at the
 * next, stricter threshold, and the tightest threshold each stays under is its level.
 */
export async function findExpiringCertificates(catalog: Catalog, health: HealthChecker, warnDays: readonly number[], signal: AbortSignal): Promise<{ checked: number; findings: CertificateFinding[] }> {
  const certificates: Certificate[] = Object.entries(catalog.services).flatMap(([service, config]) =>
    config.health.filter((check): check is TlsHealthCheck => check.kind === 'tls').map((check) => ({ service, check })),
  );
  const thresholds = [...warnDays].sort((a, b) => b - a);
  const findings = new Map<Certificate, CertificateFinding>();
  let pending = certificates;
  for (const [index, days] of thresholds.entries()) {
    if (pending.length === 0) break;
    const results = await health.check(pending.map(({ check }) => ({ ...check, warnDays: days })), { signal });
    const stillWarning: Certificate[] = [];
    pending.forEach((certificate, i) => {
      const result = results[i]!;
      if (result.status === 'warn') {
        findings.set(certificate, { service: certificate.service, check: certificate.check.name, status: 'warn', underDays: days, text: describe(result) });
        stillWarning.push(certificate);
      } else if (result.status === 'fail' && index === 0) {
        findings.set(certificate, { service: certificate.service, check: certificate.check.name, status: 'fail', text: result.reason ?? result.detail ?? 'failed' });
      }
    });
    pending = stillWarning;
  }
  const order = (f: CertificateFinding) => (f.status === 'fail' ? -1 : f.underDays!);
  return { checked: certificates.length, findings: [...findings.values()].sort((a, b) => order(a) - order(b) || a.service.localeCompare(b.service) || a.check.localeCompare(b.check)) };
}

const describe = (result: CheckResult) => result.detail ?? result.reason ?? 'expires soon';

/** The report: failures first, then the most urgent threshold first. */
export function renderCertificateReport(findings: readonly CertificateFinding[]): string {
  const lines = findings.map((f) =>
    f.status === 'fail'
      ? `✗ \`${f.service}\` ${escapeAlertText(f.check, 200)}: ${escapeAlertText(f.text, 1_000)}`
      : `⚠ \`${f.service}\` ${escapeAlertText(f.check, 200)}: under ${f.underDays} days, ${escapeAlertText(f.text, 1_000)}`,
  );
  const count = findings.length;
  return [`*${count} certificate${count === 1 ? '' : 's'} need${count === 1 ? 's' : ''} attention*`, ...lines].join('\n');
}

/** Certificate expiry across the catalog; posts only when a certificate is under a threshold or cannot be checked. */
export function certificateCheckJob(config: JobsConfig['certificateCheck'], channel: string | undefined, health: HealthChecker): JobDefinition {
  const job: JobDefinition = {
    name: CERTIFICATE_CHECK_JOB,
    title: 'certificate check',
    schedule: config.schedule,
    timezone: config.timezone,
    // Checks run in parallel, each under its own timeout (at most 60 s), once per threshold.
    maxDurationMs: 5 * 60_000,
    channel,
    async run({ catalog, signal }) {
      const { checked, findings } = await findExpiringCertificates(catalog, health, config.warnDays, signal);
      if (findings.length === 0) return { ok: true, summary: checked === 0 ? 'no tls health checks in the catalog' : `${checked} certificate${checked === 1 ? '' : 's'} ok` };
      const text = renderCertificateReport(findings);
      const failed = findings.filter((f) => f.status === 'fail').length;
      return {
        ok: true,
        summary: `${findings.length} of ${checked} certificates need attention${failed ? ` (${failed} failed)` : ''}`,
        ...(channel ? { post: { channel, text, blocks: [jobContextBlock(job), ...sections(text)] } } : {}),
      };
    },
  };
  return job;
}
