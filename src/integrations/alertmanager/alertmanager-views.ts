import type { AlertmanagerView } from '../../alerts/reconcile/alertmanager-view.js';
import { createAlertmanagerClient } from './alertmanager-client.js';
import type { AlertmanagerConfig } from './schema.js';

/** One API v2 view per configured Alertmanager (`urls`: both members of an HA pair), for reconciliation. */
export function createAlertmanagerViews(config: AlertmanagerConfig, opts: { fetchImpl?: typeof fetch } = {}): AlertmanagerView[] {
  return config.urls.map((url) => {
    const client = createAlertmanagerClient({ ...config, url }, opts);
    return {
      url,
      async alerts(signal) {
        // No matcher: every alert it holds; silenced ones show as such in their status.
        const alerts = await client.firingAlerts([], signal ? { signal } : {});
        return alerts.map((a) => ({ fingerprint: a.fingerprint, state: a.status.state, silencedBy: a.status.silencedBy }));
      },
      async silence(id, signal) {
        const silence = await client.get(id, signal ? { signal } : {});
        return { id: silence.id, endsAt: silence.endsAt, createdBy: silence.createdBy, comment: silence.comment };
      },
    };
  });
}
