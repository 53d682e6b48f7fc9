/**
 * Incremental connected components: union-find over dense node indices, union by size with
 * path halving, plus the member list and smallest player id of every root so a component can be
 * enumerated and named without a graph walk.
 *
 * Union-find cannot split. Removals (identifier expiry, erased players) are handled by
 * `rebuild(members, neighbours)`: the caller hands the members of an affected component and a
 * neighbour function over the graph as it is now, and the component is re-formed from scratch
 * (see LinkGraph.recompute and docs/graph.md).
 *
 * Example:
 *   const components = new UnionFind()
 *   const a = components.add('p1'), b = components.add(null), c = components.add('p2')
 *   components.union(a, b); components.union(b, c)
 *   components.find(a) === components.find(c) // true
 *   components.playerCountOf(a) // 2, components.smallestPlayerOf(a) // 'p1'
 */
export class UnionFind {
  private parent: Int32Array
  private count = 0
  /** Per root (undefined elsewhere): member indices. */
  private members: Array<number[] | undefined> = []
  private players: Array<number> = []
  private smallestPlayer: Array<string | null> = []

  constructor(initialCapacity = 1024) {
    this.parent = new Int32Array(initialCapacity)
  }

  get size(): number { return this.count }

  /** Adds a singleton; `playerId` is null for identifier nodes. Returns its index. */
  add(playerId: string | null): number {
    if (this.count === this.parent.length) {
      const grown = new Int32Array(this.parent.length * 2)
      grown.set(this.parent)
      this.parent = grown
    }
    const index = this.count++
    this.parent[index] = index
    this.members[index] = [index]
    this.players[index] = playerId === null ? 0 : 1
    this.smallestPlayer[index] = playerId
    return index
  }

  find(index: number): number {
    const parent = this.parent
    let current = index
    while (parent[current] !== current) {
      const grandparent = parent[parent[current] as number] as number
      parent[current] = grandparent
      current = grandparent
    }
    return current
  }

  /** Joins two components; returns the new root, or -1 when they were already one. */
  union(left: number, right: number): number {
    let rootLeft = this.find(left)
    let rootRight = this.find(right)
    if (rootLeft === rootRight) return -1
    const membersLeft = this.members[rootLeft] as number[]
    const membersRight = this.members[rootRight] as number[]
    if (membersLeft.length < membersRight.length) [rootLeft, rootRight] = [rootRight, rootLeft]
    const big = this.members[rootLeft] as number[]
    const small = this.members[rootRight] as number[]
    for (const member of small) big.push(member)
    this.members[rootRight] = undefined
    this.parent[rootRight] = rootLeft
    this.players[rootLeft] = (this.players[rootLeft] as number) + (this.players[rootRight] as number)
    const smallestLeft = this.smallestPlayer[rootLeft] ?? null
    const smallestRight = this.smallestPlayer[rootRight] ?? null
    this.smallestPlayer[rootLeft] = smallestLeft === null ? smallestRight
      : smallestRight === null ? smallestLeft : (smallestRight < smallestLeft ? smallestRight : smallestLeft)
    this.smallestPlayer[rootRight] = null
    return rootLeft
  }

  membersOf(index: number): readonly number[] { return this.members[this.find(index)] as number[] }
  playerCountOf(index: number): number { return this.players[this.find(index)] as number }
  smallestPlayerOf(index: number): string | null { return this.smallestPlayer[this.find(index)] ?? null }

  /**
   * Re-forms the component that held `members` from the live graph: each member becomes a
   * singleton again (removed nodes stay singletons, `isLive` false) and live members are
   * re-joined along `forEachNeighbour`. Returns the roots of the resulting components.
   */
  rebuild(members: readonly number[], playerIdOf: (index: number) => string | null, isLive: (index: number) => boolean,
    forEachNeighbour: (index: number, visit: (neighbour: number) => void) => void): number[] {
    for (const member of members) {
      this.parent[member] = member
      this.members[member] = [member]
      const playerId = isLive(member) ? playerIdOf(member) : null
      this.players[member] = playerId === null ? 0 : 1
      this.smallestPlayer[member] = playerId
    }
    for (const member of members) {
      if (!isLive(member)) continue
      forEachNeighbour(member, (neighbour) => { this.union(member, neighbour) })
    }
    const roots = new Set<number>()
    for (const member of members) if (isLive(member)) roots.add(this.find(member))
    return [...roots]
  }

  /** The parent array and count, for snapshots (member lists are derived again on restore). */
  exportState(): { parent: Int32Array; count: number } {
    return { parent: this.parent.slice(0, this.count), count: this.count }
  }

  /** Restores from exportState(); `playerIdOf` gives each index's player id (null for identifiers and dead nodes). */
  static restore(parent: Int32Array, playerIdOf: (index: number) => string | null): UnionFind {
    const restored = new UnionFind(Math.max(1024, parent.length))
    restored.parent.set(parent)
    restored.count = parent.length
    for (let index = 0; index < parent.length; index++) {
      restored.players[index] = 0
      restored.smallestPlayer[index] = null
    }
    for (let index = 0; index < parent.length; index++) {
      const root = restored.find(index)
      const list = restored.members[root] ?? (restored.members[root] = [])
      list.push(index)
      const playerId = playerIdOf(index)
      if (playerId !== null) {
        restored.players[root] = (restored.players[root] as number) + 1
        const smallest = restored.smallestPlayer[root] ?? null
        if (smallest === null || playerId < smallest) restored.smallestPlayer[root] = playerId
      }
    }
    return restored
  }
}
