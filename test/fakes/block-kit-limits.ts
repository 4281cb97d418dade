// Moved to src/sandbox with the fake Slack Web API that enforces these limits.
export * from '../../src/sandbox/block-kit-limits.js';
