import { describe, expect, it } from 'vitest';
import { BackupConfig, createBackupRunner, type BackupProgress, type CommandBackup } from '../../src/integrations/backup/index.js';
import { IntegrationError } from '../../src/integrations/integration-error.js';

const runner = createBackupRunner({ progressEveryMs: 50 });
const config = (raw: Record<string, unknown>): CommandBackup => BackupConfig.parse({ name: 'full', kind: 'command', ...raw }) as CommandBackup;
const opts = () => ({ signal: new AbortController().signal, serviceId: 'dried-fruits' });

describe('command backup', () => {
  it('runs the command with its env and reports its last output line', async () => {
    const outcome = await runner.run(
      config({ argv: [process.execPath, '-e', 'console.log("dumping"); console.error("warn: slow disk"); console.log("backup done: " + process.env.TARGET)'], env: { TARGET: '/opt/backups/x.tar.gz' }, cwd: '/tmp' }),
      opts(),
    );
    expect(outcome).toMatchObject({ verified: false, pruned: [], detail: 'backup done: /opt/backups/x.tar.gz' });
    expect(outcome.file).toBeUndefined();
    expect(outcome.durationMs).toBeGreaterThan(0);
  });

  it('fails with the last output lines on a non-zero exit, scrubbing secret env values', async () => {
    const failing = runner.run(
      config({ argv: [process.execPath, '-e', 'console.log("uploading with " + process.env.S3_SECRET_KEY); console.error("disk full"); process.exit(3)'], env: { S3_SECRET_KEY: 'AKIAsecret123' } }),
      opts(),
    );
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrationError);
    expect((error as Error).message).toBe(`Backup command ${process.execPath} exited with 3:\nuploading with ***\ndisk full`);
  });

  it('stops a command that runs past its timeout, reporting progress meanwhile', async () => {
    const progress: BackupProgress[] = [];
    const failing = runner.run(config({ argv: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeout: '500ms' }), { ...opts(), onProgress: (p) => progress.push(p) });
    await expect(failing).rejects.toThrow(`Backup command ${process.execPath} timed out after 500ms and was stopped`);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.every((p) => p.phase === 'running')).toBe(true);
  });

  it('says when the program does not exist', async () => {
    await expect(runner.run(config({ argv: ['./scripts/backup.sh', '--skip-logs'], cwd: '/tmp' }), opts())).rejects.toThrow(
      './scripts/backup.sh was not found; install it or give its full path in the catalog',
    );
  });
});
