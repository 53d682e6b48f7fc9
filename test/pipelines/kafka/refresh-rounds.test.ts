import { describe, expect, it } from 'vitest'
import { RefreshRounds } from '../../../pipelines/kafka/high-watermarks.js'

/** A round function whose rounds the test settles by hand, recording what each asked and when it started. */
function manualRounds() {
  const started: Array<{ names: readonly string[]; settle: (error?: Error) => void }> = []
  let running = 0
  let overlapped = false
  const round = (names: readonly string[]): Promise<void> => new Promise((resolve, reject) => {
    running += 1
    if (running > 1) overlapped = true
    started.push({ names: [...names].sort(), settle: (error) => {
      running -= 1
      if (error === undefined) resolve()
      else reject(error)
    } })
  })
  return { started, round, overlapped: () => overlapped }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('RefreshRounds', () => {
  it('asks the names of all callers of one turn in one round', async () => {
    const manual = manualRounds()
    const rounds = new RefreshRounds(manual.round)
    const first = rounds.ask(['a'])
    const second = rounds.ask(['b', 'a'])
    await turn()
    expect(manual.started.map(({ names }) => names)).toEqual([['a', 'b']])
    manual.started[0]?.settle()
    await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined])
  })

  it('puts a caller that comes during a round into the next one, started only after it, with every name asked meanwhile', async () => {
    const manual = manualRounds()
    const rounds = new RefreshRounds(manual.round)
    const first = rounds.ask(['a'])
    await turn()
    let laterDone = false
    const later = rounds.ask(['a']).then(() => { laterDone = true })
    const other = rounds.ask(['c'])
    await turn()
    // The round in flight was asked before these calls: they wait for a round of their own.
    expect(manual.started).toHaveLength(1)
    manual.started[0]?.settle()
    await first
    await turn()
    expect(laterDone).toBe(false)
    expect(manual.started.map(({ names }) => names)).toEqual([['a'], ['a', 'c']])
    manual.started[1]?.settle()
    await Promise.all([later, other])
    expect(laterDone).toBe(true)
    expect(manual.overlapped()).toBe(false)
  })

  it('rejects the callers of a failed round only; the next round still runs', async () => {
    const manual = manualRounds()
    const rounds = new RefreshRounds(manual.round)
    const failing = rounds.ask(['a'])
    await turn()
    const next = rounds.ask(['b'])
    manual.started[0]?.settle(new Error('broker unreachable'))
    await expect(failing).rejects.toThrow('broker unreachable')
    await turn()
    expect(manual.started.map(({ names }) => names)).toEqual([['a'], ['b']])
    manual.started[1]?.settle()
    await expect(next).resolves.toBeUndefined()
  })
})
