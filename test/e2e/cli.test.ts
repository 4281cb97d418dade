import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findIndentMistake } from '../../src/config/yaml-syntax-problem.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// By path, since the commands run in a folder of their own where `tsx` does not resolve.
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
let dir: string;

/** Runs the command line from its sources (the packed, compiled command is tested in package-install.test.ts). */
function switchboard(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, join(ROOT, 'src/cli.ts'), ...args], { cwd: dir, env: { ...process.env, SWITCHBOARD_CONFIG: '' } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function catalog(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const HEAD = `version: 1
services:
  api-gateway:
    name: Resilient API Gateway
    health:
      - name: gateway
        kind: http
        url: http://127.0.0.1:5000/health
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('switchboard check explains a catalog mistake once, where it is, with the fix', () => {
  it('a key indented one space too far: one problem, its line, a caret, the column to move it to', async () => {
    const file = await catalog('indent.yml', `${HEAD}      - name: upstream\n         kind: tcp\n        host: 127.0.0.1\n        port: 5001\n`);
    const { code, stderr } = await switchboard('check', file);
    expect(code).toBe(1);
    expect(stderr).toBe(
      [
        `${file} has 1 problem:`,
        `  - ${file}:10:10 (YAML syntax): \`kind:\` starts at column 10, where no mapping above it keeps its keys, so YAML cannot tell what it belongs to. Move it to column 9, in line with \`name:\` on line 9.`,
        '       9 |       - name: upstream',
        '      10 |          kind: tcp',
        '         |          ^',
        '',
      ].join('\n'),
    );
  });

  it('a key between two levels names both columns it may belong to', async () => {
    const file = await catalog('between.yml', `${HEAD}   restart:\n      kind: supervisor\n`);
    const { code, stderr } = await switchboard('check', file);
    expect(code).toBe(1);
    expect(stderr).toContain(`${file}:9:4 (YAML syntax): \`restart:\` starts at column 4`);
    expect(stderr).toContain('Move it to column 5, in line with `health:` on line 5, or to column 3, in line with `api-gateway:` on line 3.');
    expect(stderr).toContain('9 |    restart:\n        |    ^');
  });

  it('a first key shifted names both ways out: move its sibling, or move it', async () => {
    const file = await catalog('first.yml', `version: 1\nservices:\n  api-gateway:\n     name: Resilient API Gateway\n    health: []\n`);
    const { stderr } = await switchboard('check', file);
    expect(stderr).toContain(`${file}:5:5 (YAML syntax): \`health:\` starts at column 5`);
    expect(stderr).toContain('Move it to column 6, in line with `name:` on line 4. If line 4 is the one out of place, move `name:` there to column 5 instead.');
  });

  it('a list item shifted is named as an item', async () => {
    const file = await catalog('item.yml', `${HEAD}     - name: upstream\n        kind: tcp\n        host: 127.0.0.1\n        port: 5001\n`);
    const { stderr } = await switchboard('check', file);
    expect(stderr).toContain('has 1 problem:');
    expect(stderr).toContain(`${file}:9:6 (YAML syntax): This \`-\` item starts at column 6, where no list above it keeps its items`);
    expect(stderr).toContain('Move it to column 7, in line with the `-` item on line 6.');
  });

  it.each([
    ['a tab', `version: 1\nservices:\n  a:\n\tname: A\n`, 'indented with a tab', ':4:1'],
    ['a missing colon', `version: 1\nservices:\n  a:\n    name A\n    health: []\n`, 'Add the colon after the key (`name: …`)', ':4:5'],
    ['an unclosed quote', `version: 1\nservices:\n  a:\n    name: "A\n    health: []\n`, 'quote is never closed', ':4:11'],
    ['a key given twice', `version: 1\nservices:\n  a:\n    name: A\n    name: B\n`, '`name` is given twice', ':5:5'],
  ])('%s', async (_what, text, message, position) => {
    const file = await catalog('mistake.yml', text);
    const { code, stderr } = await switchboard('check', file);
    expect(code).toBe(1);
    expect(stderr).toContain('has 1 problem:');
    expect(stderr).toContain(message);
    expect(stderr).toContain(`${file}${position} `);
    expect(stderr).toMatch(/\n\s+\| +\^\n$/);
    // YAML's own wording ends in "at line N, column M:" with the snippet cut off.
    expect(stderr).not.toMatch(/at line \d+, column \d+/);
  });

  it('suggests the nearest known key for an unknown one, and lists the keys allowed there', async () => {
    const file = await catalog('unknown.yml', `${HEAD}        timout: 2s\n    cooldown: { service.restart: 5m }\n`);
    const { code, stderr } = await switchboard('check', file);
    expect(code).toBe(1);
    expect(stderr).toContain('services.api-gateway.cooldown: is not a known setting. Did you mean `cooldowns`?');
    expect(stderr).toContain('services.api-gateway.health[0].timout: is not a known setting. Did you mean `timeout`?');
    expect(stderr).toContain('The settings here are: name, kind, url, method, headers, expect, timeout.');
    expect(stderr).toContain('10 |     cooldown: { service.restart: 5m }\n         |     ^');
  });

  it('finds no indentation mistake in any valid YAML file of the project', async () => {
    const files = ['manifest.yml', ...(await readdir(join(ROOT, 'examples'))).map((f) => `examples/${f}`), ...(await readdir(join(ROOT, 'examples/rules'))).map((f) => `examples/rules/${f}`)];
    const yaml = files.filter((f) => f.endsWith('.yml'));
    expect(yaml.length).toBeGreaterThan(3);
    for (const file of yaml) {
      const lines = (await readFile(join(ROOT, file), 'utf8')).split('\n');
      expect(findIndentMistake(lines, lines.length), file).toBeUndefined();
    }
  });
});

describe('every command has --help', () => {
  it('lists the commands', async () => {
    const { code, stdout } = await switchboard('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Commands:\n\s+start\s+start the bot.*\n\s+check\s+validate a catalog/);
  });

  it.each([['check', '--help'], ['check', '-h'], ['help', 'check'], ['check', 'x.yml', '--help']])('switchboard %s %s', async (...args) => {
    const { code, stdout, stderr } = await switchboard(...args);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: switchboard check \[catalog\.yml\]/);
    expect(stderr).toBe('');
  });

  it('gives every listed command a --help of its own', async () => {
    const { stdout } = await switchboard('--help');
    const commands = [...stdout.matchAll(/^ {2}(\S+) {3}/gm)].map((m) => m[1]!);
    expect(commands).toContain('check');
    for (const command of commands) {
      const help = await switchboard(command, '--help');
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toMatch(new RegExp(`^Usage: switchboard ${command}`));
    }
  });

  it('refuses an unknown option or command with status 2 and says where the help is', async () => {
    const option = await switchboard('check', '--verbose');
    expect(option).toMatchObject({ code: 2, stdout: '' });
    expect(option.stderr).toContain('unknown option --verbose');
    expect(option.stderr).toContain('switchboard check --help');
    const command = await switchboard('chekc');
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "chekc"');
  });
});
