import { readdirSync, readFileSync } from 'node:fs';

/**
 * Resident memory of a process and every process under it, in bytes (Linux /proc): the embedded
 * store's helpers, tsx's esbuild or a PostgreSQL server started by the process all count.
 */
export function treeRss(rootPid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readSafely(`/proc/${entry}/stat`);
    // Field 4 is the parent pid; the name in field 2 may hold spaces, so count from its closing parenthesis.
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN;
    if (Number.isFinite(ppid)) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  let total = 0;
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    const kb = /VmRSS:\s+(\d+) kB/.exec(readSafely(`/proc/${pid}/status`) ?? '')?.[1];
    total += Number(kb ?? 0) * 1024;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

function readSafely(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // The process ended while we looked.
    return undefined;
  }
}
