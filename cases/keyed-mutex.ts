/**
 * Async mutual exclusion by key, first come first served. The case service holds a case's
 * lock from reading the case until its write batch is on disk, so two officers acting on one
 * case are strictly one after the other (the second then sees the new version).
 *
 * Deadlock freedom: every caller takes its other keys with one `acquireAll` (sorted order),
 * then at most one case key, always last (see case-service.ts), so all acquisitions follow
 * one global order.
 *
 * Example:
 *   const releaseOthers = await mutex.acquireAll(['alert:a-1', 'subject:player\u0000p-1'])
 *   const releaseCase = await mutex.acquire('case:CASE-00000001')
 *   try { ... } finally { releaseCase(); releaseOthers() }
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>()

  /** Waits for the key and returns its release function (call it exactly once). */
  async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    const tail = previous.then(() => held)
    this.tails.set(key, tail)
    await previous
    let released = false
    return () => {
      if (released) return
      released = true
      release()
      // The last holder leaves no entry behind, so the map does not grow with every case ever touched.
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }

  /** Acquires every key (duplicates once) in sorted order; the release frees them all. */
  async acquireAll(keys: readonly string[]): Promise<() => void> {
    const releases: Array<() => void> = []
    for (const key of [...new Set(keys)].sort()) releases.push(await this.acquire(key))
    return () => {
      for (const release of releases.reverse()) release()
    }
  }

  /** Keys currently held or waited for (for tests and metrics). */
  get size(): number {
    return this.tails.size
  }
}
