export { AlertmanagerConfig } from './schema.js';
export { createAlertmanagerClient, SilenceNotFoundError } from './alertmanager-client.js';
export { formatMatcher, formatMatchers, matchersFromLabels, type Matcher } from './matchers.js';
export type { CallOptions, FiringAlert, NewSilence, Silence, SilenceState, Silencer } from './silencer.js';
export { createAlertmanagerViews } from './alertmanager-views.js';
