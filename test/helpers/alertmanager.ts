import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startChildDaemon } from '../setup/child-daemon.js';
import { programPath } from './requires.js';
import { freePort } from './supervisord.js';

export interface Daemon {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Kills the process (SIGTERM, then SIGKILL after 5 s) and removes its temporary folder. */
  stop(): Promise<void>;
}

const PORT_ATTEMPTS = 3;

/**
 * Spawns a Prometheus-family server (they all answer `/-/ready`) on a free loopback port in `dir`,
 * and waits until it is ready. Another process may take the port between the probe and the bind,
 * so a start that fails with "address already in use" is retried on a new port.
 */
export async function startDaemon(options: {
  name: string;
  command: string;
  dir: string;
  args: (listenAddress: string) => string[];
  timeoutMs?: number;
}): Promise<Daemon> {
  const logFile = join(options.dir, `${options.name}.log`);
  const removeDir = () => rm(options.dir, { recursive: true, force: true });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const daemon = startChildDaemon(options.command, options.args(`127.0.0.1:${port}`), { logFile, cwd: options.dir, graceMs: 5_000 });
    const stop = () => daemon.stop();
    const outcome = await waitReady(url, daemon.exited, options.timeoutMs ?? 20_000);
    if (outcome === 'ready') {
      return {
        url,
        stop: async () => {
          await stop();
          await removeDir();
        },
      };
    }
    await stop();
    const text = await readFile(logFile, 'utf8').catch(() => '');
    if (outcome === 'exited' && /address already in use/i.test(text) && attempt < PORT_ATTEMPTS) continue;
    await removeDir();
    const tail = text.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${options.name} ${outcome === 'exited' ? 'exited' : 'was not ready in time'}; its log ends:\n${tail}`);
  }
}

async function waitReady(url: string, exited: Promise<unknown>, timeoutMs: number): Promise<'ready' | 'exited' | 'timeout'> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone) return 'exited';
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) })
      .then((res) => res.status === 200)
      .catch(() => false);
    if (ready) return 'ready';
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 'timeout';
}

export interface AlertmanagerOptions {
  /** Where the single receiver posts its notifications. */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer <token>` (webhook `http_config.authorization`). */
  bearerToken?: string;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  sendResolved?: boolean;
}

/**
 * A real Alertmanager (Debian `prometheus-alertmanager`) with clustering off, routing every alert,
 * grouped by alertname and service, to one webhook receiver. Needs `requires('alertmanager')`.
 */
export async function startAlertmanager(options: AlertmanagerOptions): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-alertmanager-'));
  const config = {
    route: {
      receiver: 'switchboard',
      group_by: ['alertname', 'service'],
      group_wait: options.groupWait ?? '1s',
      group_interval: options.groupInterval ?? '2s',
      repeat_interval: options.repeatInterval ?? '1h',
    },
    receivers: [
      {
        name: 'switchboard',
        webhook_configs: [
          {
            url: options.webhookUrl,
            send_resolved: options.sendResolved ?? true,
            ...(options.bearerToken ? { http_config: { authorization: { type: 'Bearer', credentials: options.bearerToken } } } : {}),
          },
        ],
      },
    ],
  };
  await writeFile(join(dir, 'alertmanager.yml'), stringify(config));
  return startDaemon({
    name: 'alertmanager',
    command: programPath('alertmanager'),
    dir,
    args: (listen) => [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=${listen}`,
      // Empty: no cluster listener, so nothing binds 0.0.0.0:9094.
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
  });
}

/** An alert as `POST /api/v2/alerts` takes it (postableAlert). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

/** Posts alerts straight into Alertmanager, as Prometheus would, without waiting for rule evaluation. */
export async function postAlerts(amUrl: string, alerts: PostableAlert[]): Promise<void> {
  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
    signal: AbortSignal.timeout(5_000),
  });
  if (res.status !== 200) throw new Error(`POST /api/v2/alerts answered ${res.status}: ${await res.text()}`);
}

/** The webhook body Alertmanager sends (version "4"). */
export interface WebhookNotification {
  version: string;
  groupKey: string;
  truncatedAlerts?: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Array<{
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
}

export interface ReceivedNotification {
  headers: IncomingHttpHeaders;
  body: WebhookNotification;
}

export interface WebhookRecorder {
  /** http://127.0.0.1:<port>/alertmanager */
  url: string;
  received: ReceivedNotification[];
  /** The first notification, received before or after the call, that matches; rejects after `timeoutMs`. */
  waitFor(match: (n: ReceivedNotification) => boolean, timeoutMs?: number): Promise<ReceivedNotification>;
  stop(): Promise<void>;
}

/** A node:http server that records the webhooks Alertmanager posts to it and answers 200. */
export async function startWebhookRecorder(): Promise<WebhookRecorder> {
  const received: ReceivedNotification[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookNotification });
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alertmanager`,
    received,
    waitFor(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(match);
          if (!found) return;
          finish();
          resolve(found);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no matching webhook within ${timeoutMs} ms; received ${received.length}: ${JSON.stringify(received.map((n) => n.body.status))}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
