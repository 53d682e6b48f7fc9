import { describe, expect, it } from 'vitest'
import { UnionFind } from '../../graph/union-find.js'

describe('UnionFind', () => {
  it('tracks members, player counts and the smallest player per component, and grows', () => {
    const components = new UnionFind(2)
    const ids = ['p3', null, 'p1', 'p2', null].map((playerId) => components.add(playerId))
    components.union(ids[0] as number, ids[1] as number)
    components.union(ids[1] as number, ids[2] as number)
    expect(components.find(ids[0] as number)).toBe(components.find(ids[2] as number))
    expect(components.playerCountOf(ids[0] as number)).toBe(2)
    expect(components.smallestPlayerOf(ids[1] as number)).toBe('p1')
    expect([...components.membersOf(ids[2] as number)].sort()).toEqual([0, 1, 2])
    expect(components.union(ids[0] as number, ids[2] as number)).toBe(-1)
    expect(components.size).toBe(5)
  })

  it('rebuilds a component from its live edges and restores from its parent array', () => {
    const components = new UnionFind()
    for (const playerId of ['a', null, 'b', 'c']) components.add(playerId)
    components.union(0, 1); components.union(1, 2); components.union(2, 3)
    // Node 1 (an identifier) is gone; only 2-3 are still linked.
    const roots = components.rebuild([...components.membersOf(0)], (index) => ['a', null, 'b', 'c'][index] ?? null, (index) => index !== 1,
      (index, visit) => { if (index === 2) visit(3); if (index === 3) visit(2) })
    expect(roots).toHaveLength(2)
    expect(components.playerCountOf(0)).toBe(1)
    expect(components.smallestPlayerOf(3)).toBe('b')
    const restored = UnionFind.restore(components.exportState().parent, (index) => ['a', null, 'b', 'c'][index] ?? null)
    expect(restored.smallestPlayerOf(3)).toBe('b')
    expect(restored.playerCountOf(2)).toBe(2)
  })
})
