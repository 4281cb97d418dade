/**
 * What reconciliation needs of one Alertmanager's API v2: the alerts it holds, and a silence.
 * The adapter (`src/integrations/alertmanager`) is wired in `buildAlerting`, so `src/alerts`
 * imports no integration. Failures are thrown; the reconciler treats any as "unreachable".
 */
export interface AlertmanagerView {
  /** The base URL, as the catalog names it: for logs, the metric and the timeline. */
  url: string;
  /** Every alert it holds and has not seen resolved, whether active, silenced, inhibited or unprocessed. */
  alerts(signal?: AbortSignal): Promise<HeldAlert[]>;
  /** One silence: who made it, until when, and why. */
  silence(id: string, signal?: AbortSignal): Promise<SilenceInfo>;
}

export interface HeldAlert {
  fingerprint: string;
  /** `active`, `suppressed` (silenced or inhibited) or `unprocessed`. */
  state: string;
  silencedBy: readonly string[];
}

export interface SilenceInfo {
  id: string;
  endsAt: Date;
  createdBy: string;
  comment: string;
}
