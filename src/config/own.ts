/**
 * The value `record` holds under `key` itself, never one it inherits: `services['constructor']`
 * is Object's constructor, so a lookup keyed by chat or alert text must not read it plainly.
 */
export function ownValue<V>(record: Readonly<Record<string, V>> | undefined, key: string): V | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
