const DEFAULT_PORT: Record<string, number> = {
  'http:': 80,
  'https:': 443,
  'redis:': 6379,
  'rediss:': 6379,
  'postgres:': 5432,
  'postgresql:': 5432,
};

/** "host:port" of a URL, default port filled in, for error reasons; never includes credentials. */
export function targetOfUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port || DEFAULT_PORT[parsed.protocol] || '';
    return port ? `${parsed.hostname}:${port}` : parsed.hostname;
  } catch {
    return 'invalid URL';
  }
}
