import type { Matcher } from './matchers.js';

export type SilenceState = 'active' | 'pending' | 'expired';

export interface NewSilence {
  matchers: Matcher[];
  startsAt: Date;
  endsAt: Date;
  /** Who asked for it, as shown in Alertmanager ("Switchboard for @alice"). */
  createdBy: string;
  comment: string;
}

export interface Silence {
  id: string;
  status: SilenceState;
  startsAt: Date;
  endsAt: Date;
  matchers: Matcher[];
  createdBy: string;
  comment: string;
}

/** An alert Alertmanager holds and has not seen resolved; `state` is `active`, `suppressed` (silenced or inhibited) or `unprocessed`. */
export interface FiringAlert {
  fingerprint: string;
  labels: Record<string, string>;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** Port used by the incident Silence button and `/ops silence`; failures are IntegrationErrors worded for the operator. */
export interface Silencer {
  /** Creates a silence; Alertmanager's reason is in the error when it refuses one. */
  create(silence: NewSilence, opts?: CallOptions): Promise<{ id: string }>;
  /** Ends a silence now; one that already ended is fine. Throws SilenceNotFoundError when Alertmanager has no such silence. */
  expire(id: string, opts?: CallOptions): Promise<void>;
  /** Reads a silence back. Throws SilenceNotFoundError when Alertmanager has no such silence. */
  get(id: string, opts?: CallOptions): Promise<Silence>;
  /**
   * Alerts matching all matchers that are firing (not resolved), whether active, silenced or inhibited:
   * `status` says which, so a caller can show "silenced by …".
   */
  firingAlerts(matchers: Matcher[], opts?: CallOptions): Promise<FiringAlert[]>;
}
