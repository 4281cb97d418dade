import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerBackupMetrics, type BackupStatus } from '../../src/integrations/backup/metrics.js';

describe('registerBackupMetrics', () => {
  it('reads the source at every scrape, once per scrape', async () => {
    const registry = new Registry();
    let statuses: BackupStatus[] = [
      { service: 'brownie', target: 'database', lastStatus: 'succeeded', lastSuccessAt: new Date('2024-05-01T02:00:30Z') },
      { service: 'dried-fruits', target: 'full', lastStatus: 'failed' },
    ];
    let reads = 0;
    registerBackupMetrics(registry, async () => {
      reads += 1;
      return statuses;
    });

    const first = await registry.metrics();
    expect(reads).toBe(1);
    expect(first).toContain('backup_success{service="brownie",target="database"} 1');
    expect(first).toContain('backup_success{service="dried-fruits",target="full"} 0');
    expect(first).toContain('backup_last_success_timestamp_seconds{service="brownie",target="database"} 1714528830');
    expect(first).not.toContain('backup_last_success_timestamp_seconds{service="dried-fruits"');

    statuses = [{ service: 'brownie', target: 'database', lastStatus: 'failed', lastSuccessAt: new Date('2024-05-01T02:00:30Z') }];
    const second = await registry.metrics();
    expect(reads).toBe(2);
    expect(second).toContain('backup_success{service="brownie",target="database"} 0');
    expect(second).toContain('backup_last_success_timestamp_seconds{service="brownie",target="database"} 1714528830');
    // A target that left the store leaves the metrics too.
    expect(second).not.toContain('dried-fruits');
  });

  it('fails the scrape when the store cannot be read', async () => {
    const registry = new Registry();
    registerBackupMetrics(registry, () => Promise.reject(new Error('connection refused')));
    await expect(registry.metrics()).rejects.toThrow('connection refused');
  });
});
