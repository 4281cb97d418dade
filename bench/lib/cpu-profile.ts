import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that a summary needs. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by where the code lives: a src/ file, an npm package, node internals, GC, idle. */
  byArea: Array<{ area: string; ms: number; share: number }>;
  /** Self time by function. */
  byFunction: Array<{ name: string; where: string; ms: number; share: number }>;
  /** Total (self + callees) time of functions in src/, the project's own code. */
  inclusiveSrc: Array<{ name: string; where: string; ms: number; share: number }>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function whereOf(url: string): { area: string; where: string } {
  if (!url) return { area: '(native/V8)', where: '' };
  if (url.startsWith('node:')) return { area: 'node internals', where: url };
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return { area: `npm ${pkg[1]}`, where: `${pkg[1]}/${path.split('/').pop()}` };
  const rel = relative(ROOT, path);
  return { area: rel.startsWith('..') ? path : rel, where: rel };
}

/** Self and inclusive time of a profile, largest first. */
export async function summarizeProfile(file: string, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const areas = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const inclusive = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const special = functionName.startsWith('(') && !url;
    const { area, where } = special ? { area: functionName, where: '' } : whereOf(url);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = functionName || '(anonymous)';
    const at = where ? `${where}:${lineNumber + 1}` : '';
    const key = `${name}@${at}`;
    const f = functions.get(key) ?? { name, where: at, us: 0 };
    f.us += us;
    functions.set(key, f);
    // Inclusive: credit every distinct src/ frame on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      const loc = frame.url ? whereOf(frame.url) : undefined;
      if (!loc || !loc.where.startsWith('src/')) continue;
      const k = `${frame.functionName || '(anonymous)'}@${loc.where}:${frame.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const entry = inclusive.get(k) ?? { name: frame.functionName || '(anonymous)', where: `${loc.where}:${frame.lineNumber + 1}`, us: 0 };
      entry.us += us;
      inclusive.set(k, entry);
    }
  }
  const share = (us: number) => (totalUs ? us / totalUs : 0);
  return {
    totalMs: totalUs / 1000,
    byArea: [...areas].map(([area, us]) => ({ area, ms: us / 1000, share: share(us) })).sort((a, b) => b.ms - a.ms).slice(0, top),
    byFunction: [...functions.values()].map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })).sort((a, b) => b.ms - a.ms).slice(0, top),
    inclusiveSrc: [...inclusive.values()].map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })).sort((a, b) => b.ms - a.ms).slice(0, top),
  };
}
