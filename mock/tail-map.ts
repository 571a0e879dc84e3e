/** Characters of a long key that a `TailMap` hashes. */
const TAIL = 40;

/** The part of a long string a lookup hashes: its last characters. */
export const tailOf = (key: string): string => (key.length <= TAIL ? key : key.slice(-TAIL));

/**
 * A map whose long string keys are looked up by their last characters and
 * confirmed by comparing the whole key. V8 hashes all of a string the first
 * time it meets it as a key, and Node makes every header value anew for each
 * request: a 1 KB bearer token would cost a full hash per request and per
 * map. Its tail is where a token's signature (or a body's last fields) is,
 * so keys rarely share one; when two do, the newer replaces the older, which
 * costs a miss, never a wrong answer. Bounded: forgets everything when full.
 */
export class TailMap<V> {
  private readonly entries = new Map<string, { key: string; value: V }>();

  constructor(private readonly limit: number) {}

  get(key: string): V | undefined {
    const found = this.entries.get(tailOf(key));
    return found !== undefined && found.key === key ? found.value : undefined;
  }

  set(key: string, value: V): void {
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(tailOf(key), { key, value });
  }
}
