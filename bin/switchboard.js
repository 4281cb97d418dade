#!/usr/bin/env node
// The installed command runs the JavaScript that `npm run build` compiled at install, not the
// TypeScript sources (the tests run those).
await import('../dist/cli.js');
