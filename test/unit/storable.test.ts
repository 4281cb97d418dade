import { describe, expect, it } from 'vitest';
import { storable, storableJson, storableText, toJsonb } from '../../src/store/storable.js';

describe('storable values (what PostgreSQL accepts in text and jsonb)', () => {
  it('replaces U+0000 and unpaired surrogates, and keeps paired ones', () => {
    expect(storableText('a\u0000b')).toBe('a\uFFFDb');
    expect(storableText('lone \ud83d high, lone \ude00 low')).toBe('lone \uFFFD high, lone \uFFFD low');
    expect(storableText('pair \ud83d\ude00 ok')).toBe('pair \ud83d\ude00 ok');
  });

  it('returns a clean value itself, and copies only what it has to change', () => {
    const clean = { labels: { alertname: 'Down' }, alerts: [{ fingerprint: 'a' }] };
    expect(storable(clean)).toBe(clean);
    const dirty = { labels: { 'k\u0000': 'v\u0000' }, alerts: clean.alerts };
    const cleaned = storable(dirty);
    expect(cleaned).toEqual({ labels: { 'k\uFFFD': 'v\uFFFD' }, alerts: [{ fingerprint: 'a' }] });
    expect(cleaned.alerts).toBe(clean.alerts);
    expect(dirty.labels).toEqual({ 'k\u0000': 'v\u0000' });
  });

  it('keeps a body as it arrived unless it holds an escape PostgreSQL refuses', () => {
    // Go's encoder escapes <, > and & (\u003c, \u003e, \u0026): those bodies are stored untouched.
    const text = '{"a":"x \\u0026 y","b":"😀"}';
    expect(storableJson(text, JSON.parse(text))).toBe(text);
    // A surrogate escape may be half of a pair: re-serialised, with the same value.
    const paired = '{"b":"\\ud83d\\ude00"}';
    expect(JSON.parse(storableJson(paired, JSON.parse(paired)))).toEqual({ b: '😀' });
    const refused = '{"a":"nul \\u0000","b":"lone \\ud83d"}';
    expect(JSON.parse(storableJson(refused, JSON.parse(refused)))).toEqual({ a: 'nul \uFFFD', b: 'lone \uFFFD' });
    expect(toJsonb({ a: 'x\u0000' })).toBe('{"a":"x\uFFFD"}');
  });
});
