// The fake Slack Web API moved to src/sandbox so the sandbox runs the very fake the tests use.
export * from '../../src/sandbox/fake-slack.js';
