/**
 * @module The per-isolate caches' eviction rule: a Map that forgets its oldest entry once it holds `limit`. (`crypto/`
 * imports nothing outside itself and writes the same three lines in its own caches.)
 */

/** Sets `key` to `value` as the newest entry of `map`, first forgetting the oldest when the map holds `limit` entries. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.delete(key)
  if (map.size >= limit) map.delete(map.keys().next().value!)
  map.set(key, value)
}
