import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exporter {
  /** http://127.0.0.1:<port>/metrics */
  url: string;
  /** `127.0.0.1:<port>`, for a Prometheus scrape target. */
  target: string;
  /** Sets a gauge (with these labels) to a value, served from the next scrape on. */
  set(name: string, value: number, labels?: Record<string, string>): void;
  stop(): Promise<void>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A tiny exporter serving gauges in the Prometheus text format (0.0.4) at /metrics. */
export async function startExporter(initial: Record<string, number> = {}): Promise<Exporter> {
  // name → serialized label set → value
  const gauges = new Map<string, Map<string, number>>();
  const set = (name: string, value: number, labels: Record<string, string> = {}) => {
    if (!METRIC_NAME.test(name)) throw new Error(`"${name}" is not a metric name`);
    const bad = Object.keys(labels).find((label) => !LABEL_NAME.test(label));
    if (bad !== undefined) throw new Error(`"${bad}" is not a label name`);
    const series = gauges.get(name) ?? new Map<string, number>();
    series.set(formatLabels(labels), value);
    gauges.set(name, series);
  };
  for (const [name, value] of Object.entries(initial)) set(name, value);

  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const lines: string[] = [];
    for (const [name, series] of gauges) {
      lines.push(`# TYPE ${name} gauge`);
      for (const [labels, value] of series) lines.push(`${name}${labels} ${formatValue(value)}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    target: `127.0.0.1:${port}`,
    set,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function formatLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
