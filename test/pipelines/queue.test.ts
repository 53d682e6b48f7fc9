import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { Queue } from '../../pipelines/partition-task.js'

/** A full garbage collection, reached without starting the test process with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

/** A WeakRef is kept alive to the end of the job that created or read it: let that job end. */
const nextJob = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('partition task queue', () => {
  it('keeps first-in first-out order across compactions and emptying', () => {
    const queue = new Queue<number>()
    const out: number[] = []
    let next = 0
    // Rounds that leave items behind (compaction) and rounds that empty it.
    for (const [pushes, shifts] of [[3000, 2500], [10, 510], [1, 0], [2000, 1999], [5, 7]] as const) {
      for (let index = 0; index < pushes; index += 1) queue.push(next++)
      for (let index = 0; index < shifts; index += 1) {
        const item = queue.shift()
        if (item !== undefined) out.push(item)
      }
      expect(queue.length).toBe(next - out.length)
      expect(queue.peek()).toBe(queue.length === 0 ? undefined : out.length)
    }
    expect(out).toEqual(Array.from({ length: next }, (_, index) => index))
    expect(queue.shift()).toBeUndefined()
  })

  it('does not keep a shifted item alive, whether the queue is emptied or not', async () => {
    const queue = new Queue<{ payload: Uint8Array }>()
    const refs: Array<WeakRef<object>> = []
    const fill = (count: number): void => {
      for (let index = 0; index < count; index += 1) {
        const item = { payload: new Uint8Array(64) }
        refs.push(new WeakRef(item))
        queue.push(item)
      }
    }
    fill(10)
    for (let index = 0; index < 4; index += 1) queue.shift() // 6 left: no emptying, no compaction
    await nextJob()
    collectGarbage()
    expect(refs.map((ref) => ref.deref() !== undefined)).toEqual([false, false, false, false, true, true, true, true, true, true])
    while (queue.length > 0) queue.shift()
    await nextJob()
    collectGarbage()
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0)
  })
})
