// The one bounded map: a Map that never holds more than `maxEntries` entries (or, with `weigh`, more than
// `maxWeight` in total), evicting the oldest first. With `lru` a read makes an entry the newest, so the least
// recently used goes first; without it, reads cost what Map#get costs (for hot-path caches).

export interface BoundedMapOptions<V> {
  /** At most this many entries. Default: unbounded by count. */
  maxEntries?: number;
  /** With `weigh`: at most this much weight in total. A single value heavier than this is not stored. */
  maxWeight?: number;
  /** The weight of a value (e.g. its byte length). */
  weigh?: (value: V) => number;
  /** Reads make an entry the newest (least-recently-used eviction). Default false: oldest-inserted goes first. */
  lru?: boolean;
}

export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();
  private weight = 0;
  private readonly maxEntries: number;
  private readonly maxWeight: number;
  private readonly weigh: ((value: V) => number) | undefined;
  private readonly lru: boolean;

  constructor(opts: BoundedMapOptions<V>) {
    this.maxEntries = opts.maxEntries ?? Infinity;
    this.maxWeight = opts.maxWeight ?? Infinity;
    this.weigh = opts.weigh;
    this.lru = opts.lru ?? false;
    if (!(this.maxEntries >= 1))
      throw new RangeError(`BoundedMap maxEntries must be at least 1, got ${opts.maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The total weight held (0 without `weigh`). */
  get totalWeight(): number {
    return this.weight;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  get(key: K): V | undefined {
    const v = this.entries.get(key);
    if (v !== undefined && this.lru) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): this {
    const w = this.weigh ? this.weigh(value) : 0;
    this.delete(key);
    if (w > this.maxWeight) return this;
    this.entries.set(key, value);
    this.weight += w;
    while (this.entries.size > this.maxEntries || this.weight > this.maxWeight) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    return this;
  }

  delete(key: K): boolean {
    if (!this.entries.has(key)) return false;
    if (this.weigh) this.weight -= this.weigh(this.entries.get(key) as V);
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.weight = 0;
  }

  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  values(): IterableIterator<V> {
    return this.entries.values();
  }
}

/** A set bounded the same way (oldest member evicted first). */
export class BoundedSet<T> {
  private readonly map: BoundedMap<T, true>;

  constructor(maxEntries: number) {
    this.map = new BoundedMap({ maxEntries });
  }

  get size(): number {
    return this.map.size;
  }

  has(value: T): boolean {
    return this.map.has(value);
  }

  add(value: T): this {
    this.map.set(value, true);
    return this;
  }

  delete(value: T): boolean {
    return this.map.delete(value);
  }
}
