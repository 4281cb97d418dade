import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { TlsHealthCheck } from '../schema.js';
import type { Probe, ProbeOutcome } from '../types.js';
import { onAbort } from './on-abort.js';

const DAY_MS = 86_400_000;

/**
 * Reads the server certificate's expiry. It reports rather than verifies: an untrusted
 * certificate still gets its expiry checked, with the verification error in the detail.
 */
export const tlsProbe: Probe<TlsHealthCheck> = (check, { signal, now }) =>
  new Promise((resolve, reject) => {
    // SNI must be a host name; Node warns when given an IP address.
    const servername = check.servername ?? (isIP(check.host) ? undefined : check.host);
    const socket = connect({ host: check.host, port: check.port, servername, rejectUnauthorized: false });
    let unsubscribe = () => {};
    const finish = (settle: () => void) => {
      unsubscribe();
      socket.destroy();
      settle();
    };
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      const authorizationError = socket.authorized ? undefined : String(socket.authorizationError ?? '') || undefined;
      finish(() => resolve(judgeExpiry(certificate?.valid_to, authorizationError, check.warnDays, now())));
    });
    socket.once('error', (error) => finish(() => reject(error)));
    unsubscribe = onAbort(signal, () => finish(() => reject(signal.reason)));
  });

function judgeExpiry(validTo: string | undefined, authorizationError: string | undefined, warnDays: number, nowMs: number): ProbeOutcome {
  // An empty certificate object (no valid_to) means the server sent none.
  if (!validTo) return { status: 'fail', reason: 'server presented no certificate' };
  const expiresMs = Date.parse(validTo);
  if (Number.isNaN(expiresMs)) return { status: 'fail', reason: `cannot read certificate expiry "${validTo}"` };
  const date = new Date(expiresMs).toISOString().slice(0, 10);
  const days = Math.floor((expiresMs - nowMs) / DAY_MS);
  const untrusted = authorizationError ? `; untrusted: ${authorizationError}` : '';
  if (expiresMs <= nowMs) {
    const ago = Math.floor((nowMs - expiresMs) / DAY_MS);
    return { status: 'fail', detail: `expired ${date}${untrusted}`, reason: `certificate expired on ${date} (${plural(ago, 'day')} ago)` };
  }
  const detail = `expires ${date} (${plural(days, 'day')})${untrusted}`;
  if (days < warnDays) return { status: 'warn', detail, reason: `certificate expires in ${plural(days, 'day')} (warn at ${warnDays})` };
  return { status: 'ok', detail };
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}
