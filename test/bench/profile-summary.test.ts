import { describe, expect, it } from 'vitest'
import { GAP_US, summarise } from '../../bench/profile-summary.js'

type CpuProfile = Parameters<typeof summarise>[0]

const frame = (functionName: string, url = ''): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber: 0 })

/** A root with processBatch (this repository), (program) and (idle) under it. */
function profile(samples: number[], timeDeltas: number[]): CpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
      { id: 2, callFrame: frame('processBatch', 'file:///repo/pipelines/partition-task.ts') },
      { id: 3, callFrame: frame('(program)') },
      { id: 4, callFrame: frame('(idle)') },
    ],
    samples,
    timeDeltas,
    startTime: 0,
    endTime: timeDeltas.reduce((a, b) => a + b, 0),
  }
}

describe('summarise', () => {
  it('counts each sample for the time since the one before (none for a sample taken in the same microsecond)', () => {
    const text = summarise(profile([2, 2, 3, 4, 2, 2], [2000, 3000, 1000, 5000, 1000, 0]), 10)
    expect(text).toContain('profile: 0.0 s sampled, 0.0 s busy (not idle)')
    expect(text).toMatch(/85\.7%\s+0\.01 s\s+pitboss\/pipelines/)
    expect(text).toMatch(/14\.3%\s+0\.00 s\s+\(program\)/)
    expect(text).not.toContain('gap')
  })

  it('leaves out a gap longer than GAP_US (a stopped process) instead of giving it to the frame it landed on', () => {
    const stoppedUs = 9 * GAP_US
    const text = summarise(profile([2, 2, 3, 2, 4, 2], [1000, 1000, stoppedUs, 1000, 1000, 1000]), 10, 'processBatch', true)
    expect(text).toContain('not counted: 1 gap(s) over 1 s between samples, 9.0 s in all')
    expect(text).toMatch(/100\.0%\s+0\.00 s\s+pitboss\/pipelines/)
    expect(text).not.toMatch(/\(program\)/)
    // the window runs from the first processBatch sample to the last: 9.004 s, 0.004 s of it running
    expect(text).toContain('from the first to the last sample in processBatch: 9.0 s (0.0 s without the gaps), busy 0.0 s (75%)')
  })
})
