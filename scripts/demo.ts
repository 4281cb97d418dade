/**
 * `npm run demo`: the five seed systems on this machine, for Switchboard (`npm start`) to watch.
 * Keys drive every alert of examples/rules/ (see DEMO_SWITCHES); Ctrl-C stops everything the demo started.
 */
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CatalogError, loadCatalog } from '../src/config/load-catalog.js';
import { applySwitch } from '../src/simulator/apply-switch.js';
import { DEMO_TIMING } from '../src/simulator/demo-rules.js';
import { DEMO_SWITCHES, helpFor } from '../src/simulator/demo-switches.js';
import { startSimulator, type Simulator } from '../src/simulator/start-simulator.js';
import { CONTROL_PATH } from '../src/simulator/stand-in-server.js';

// This script is a composition root, like src/main.ts: it alone reads the environment.
// eslint-disable-next-line no-restricted-syntax
const env = process.env;
const EXAMPLE_CATALOG = fileURLToPath(new URL('../examples/switchboard.yml', import.meta.url));

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const file = env.SWITCHBOARD_CONFIG ?? ((await access('./switchboard.yml').then(() => true, () => false)) ? './switchboard.yml' : EXAMPLE_CATALOG);
  const catalog = await loadCatalog(file, env);
  const botUrl = env.SWITCHBOARD_URL ?? `http://127.0.0.1:${env.PORT ?? '3000'}`;
  say(`Starting the simulator for ${file} …`);
  const simulator = await startSimulator({ catalog, botUrl, ...(env.ALERTMANAGER_WEBHOOK_TOKEN ? { webhookToken: env.ALERTMANAGER_WEBHOOK_TOKEN } : {}), log: say });

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${why}: stopping everything the demo started …`);
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdin.pause();
    await simulator.stop();
    say('Stopped.');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  printSystems(simulator, botUrl);
  if (process.stdin.isTTY) listenToKeys(simulator, () => void stop('Ctrl-C'));
  else say(`No terminal: switch a program with  curl -XPOST -H 'content-type: application/json' -d '{"mode":"unhealthy"}' http://127.0.0.1:<port>${CONTROL_PATH}`);
}

function printSystems(simulator: Simulator, botUrl: string): void {
  say(`\nSimulated systems (watch them in the sandbox: ${botUrl.replace('127.0.0.1', 'localhost')}/sandbox):`);
  simulator.plan.systems.forEach((system, i) => {
    const programs = system.programs.map((p) => (p.port ? `${p.program} :${p.port}` : p.program)).join(', ');
    say(`  ${i + 1}  ${system.service.padEnd(20)} ${programs}`);
  });
}

/** Every key beside the alerts it causes in the picked system (from DEMO_SWITCHES, which the rule-coverage test checks). */
function help(service: string): string {
  return [
    `Keys for ${service} (1-5 pick another system):`,
    ...helpFor(service, DEMO_TIMING.backupAge),
    '  h  healthy again: every program healthy, no simulated condition (a crashed program needs /ops restart)',
    '  q  start a long query (/ops db long-queries <service> --older-than 1s)',
    '  ?  this help · Ctrl-C stop',
    `Alerts fire ${DEMO_TIMING.for} after their cause: the demo's rules are a copy of examples/rules/ with for: at most ${DEMO_TIMING.for}, ranges at most ${DEMO_TIMING.range}.`,
  ].join('\n');
}

function listenToKeys(simulator: Simulator, onStop: () => void): void {
  const services = simulator.plan.systems.map((s) => s.service);
  let picked = services.includes('api-gateway') ? 'api-gateway' : services[0]!;
  say(`\n${help(picked)}`);
  process.stdin.setRawMode(true);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (key: string) => {
    const run = (what: string, action: () => Promise<void>) =>
      action().then(
        () => say(`${picked}: ${what}`),
        (error: unknown) => say(`${picked}: could not ${what}: ${error instanceof Error ? error.message : String(error)}`),
      );
    if (key === '\u0003') return onStop();
    const index = Number(key) - 1;
    if (Number.isInteger(index) && services[index]) return say(help((picked = services[index])));
    const service = picked;
    const switched = DEMO_SWITCHES.find((s) => s.key === key);
    if (switched) {
      const alerts = switched.alerts[service] ?? [];
      const then = switched.then?.[service] ? `; now run ${switched.then[service]}` : '';
      return void run(`${switched.doesFor?.[service] ?? switched.does}${alerts.length ? ` → ${alerts.join(', ')} in about ${DEMO_TIMING.for}${then}` : ' (no rule of this system reads it)'}`, () => applySwitch(simulator, service, switched.effect));
    }
    if (key === 'h') return void run('healthy again', () => simulator.heal(service));
    if (key === 'q') return void run('long query started', () => simulator.longQuery(service));
    say(help(picked));
  });
}

main().catch((error: unknown) => {
  if (error instanceof CatalogError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`The demo could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
