import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Tool output the run itself may write inside the project: the installed packages and their caches, git, coverage. */
const NOT_WATCHED = new Set(['node_modules', '.git', 'coverage']);

export type TreeSnapshot = Map<string, string>;

/**
 * Every file, folder and symlink under `roots` with its content hash, so a second snapshot shows
 * whatever a test created, changed or removed there, whatever its mtime says.
 */
export function snapshotTrees(roots: string[]): TreeSnapshot {
  const snapshot: TreeSnapshot = new Map();
  const visit = (path: string, top: boolean) => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      if (!top) snapshot.set(path, 'folder');
      for (const name of readdirSync(path)) if (!(top && NOT_WATCHED.has(name))) visit(join(path, name), false);
    } else if (stat.isSymbolicLink()) {
      snapshot.set(path, `symlink → ${readlinkSync(path)}`);
    } else if (stat.isFile()) {
      snapshot.set(path, `file ${stat.mode.toString(8)} ${createHash('sha1').update(readFileSync(path)).digest('hex')}`);
    } else {
      snapshot.set(path, 'special');
    }
  };
  for (const root of roots) visit(root, true);
  return snapshot;
}

/** What differs between two snapshots, one line per path relative to `base`; a created or removed folder stands for its contents. */
export function changesBetween(before: TreeSnapshot, after: TreeSnapshot, base: string): string[] {
  const lines: Array<[string, string]> = [];
  const within = (path: string, folders: Set<string>) => [...folders].some((folder) => path.startsWith(`${folder}/`));
  const removed = new Set([...before].filter(([path, was]) => was === 'folder' && !after.has(path)).map(([path]) => path));
  const created = new Set([...after].filter(([path, now]) => now === 'folder' && !before.has(path)).map(([path]) => path));
  for (const [path, was] of before) {
    const now = after.get(path);
    if (now === undefined && !within(path, removed)) lines.push(['removed', path]);
    else if (now !== undefined && now !== was) lines.push(['changed', path]);
  }
  for (const path of after.keys()) if (!before.has(path) && !within(path, created)) lines.push(['created', path]);
  return lines
    .map(([what, path]) => `${what}  ${relative(base, path) || path}${created.has(path) || removed.has(path) ? '/' : ''}`)
    .sort((a, b) => a.slice(9).localeCompare(b.slice(9)));
}
