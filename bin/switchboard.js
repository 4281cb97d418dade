#!/usr/bin/env node
// The installed command: `switchboard start` runs the bot, anything else is the CLI. Both run the
// JavaScript that `npm run build` compiled at install, not the TypeScript sources.
if (process.argv[2] === 'start') {
  process.argv.splice(2, 1);
  await import('../dist/main.js');
} else {
  await import('../dist/cli.js');
}
