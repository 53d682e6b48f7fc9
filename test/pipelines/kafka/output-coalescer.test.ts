import { describe, expect, it } from 'vitest'
import { OutputCoalescer, type GatheredMessages } from '../../../pipelines/kafka/output-coalescer.js'

/** A send whose requests are acknowledged (or failed) by hand. */
function heldSend(): { requests: Array<Array<GatheredMessages<string>>>; settle: (index: number, error?: Error) => void; send: (topicMessages: Array<GatheredMessages<string>>) => Promise<void> } {
  const requests: Array<Array<GatheredMessages<string>>> = []
  const settlers: Array<(error?: Error) => void> = []
  return {
    requests,
    settle: (index, error) => (settlers[index] as (error?: Error) => void)(error),
    send: (topicMessages) => {
      requests.push(topicMessages)
      return new Promise<void>((resolve, reject) => settlers.push((error) => (error === undefined ? resolve() : reject(error))))
    },
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('output coalescer (group commit of the engine outputs)', () => {
  it('sends the first submission at once and gathers the ones that arrive meanwhile into the next request, in order per topic', async () => {
    const held = heldSend()
    const coalescer = new OutputCoalescer<string>(held.send, (message) => message.length, 1000)
    const settled: string[] = []
    const a = coalescer.submit([{ topic: 'decisions', messages: ['a1'] }]).then(() => settled.push('a'))
    const b = coalescer.submit([{ topic: 'decisions', messages: ['b1', 'b2'] }, { topic: 'links', messages: ['b3'] }]).then(() => settled.push('b'))
    const c = coalescer.submit([{ topic: 'links', messages: ['c1'] }, { topic: 'decisions', messages: ['c2'] }]).then(() => settled.push('c'))
    await tick()
    expect(held.requests).toEqual([[{ topic: 'decisions', messages: ['a1'] }]])
    expect(coalescer.waitingCount()).toBe(2)

    held.settle(0)
    await a
    await tick()
    expect(held.requests[1]).toEqual([{ topic: 'decisions', messages: ['b1', 'b2', 'c2'] }, { topic: 'links', messages: ['b3', 'c1'] }])
    expect(settled).toEqual(['a'])
    held.settle(1)
    await Promise.all([b, c])
    expect(settled).toEqual(['a', 'b', 'c'])
  })

  it('fails every submission of a failed request, and goes on with the next ones', async () => {
    const held = heldSend()
    const coalescer = new OutputCoalescer<string>(held.send, (message) => message.length, 1000)
    const first = coalescer.submit([{ topic: 't', messages: ['x'] }])
    const second = coalescer.submit([{ topic: 't', messages: ['y'] }])
    const third = coalescer.submit([{ topic: 't', messages: ['z'] }])
    held.settle(0)
    await first
    await tick()
    held.settle(1, new Error('broker gone'))
    await expect(second).rejects.toThrow('broker gone')
    await expect(third).rejects.toThrow('broker gone')
    const fourth = coalescer.submit([{ topic: 't', messages: ['w'] }])
    await tick()
    expect(held.requests[2]).toEqual([{ topic: 't', messages: ['w'] }])
    held.settle(2)
    await expect(fourth).resolves.toBeUndefined()
  })

  it('gathers no more than maxBytes per request, but sends a larger submission alone', async () => {
    const held = heldSend()
    const coalescer = new OutputCoalescer<string>(held.send, (message) => message.length, 10)
    const submissions = [['aaaa'], ['bbbb'], ['cccc'], ['dddddddddddddddd'], ['e']].map((messages) => coalescer.submit([{ topic: 't', messages }]))
    for (let index = 0; index < 4; index += 1) {
      await tick()
      held.settle(index)
    }
    await Promise.all(submissions)
    expect(held.requests.map((request) => request[0]?.messages)).toEqual([['aaaa'], ['bbbb', 'cccc'], ['dddddddddddddddd'], ['e']])
  })
})
