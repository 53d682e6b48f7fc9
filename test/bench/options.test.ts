import { describe, expect, it } from 'vitest'
import { positiveIntegerOption } from '../../bench/lib/harness.js'

describe('positiveIntegerOption', () => {
  it('reads a positive integer', () => {
    expect(positiveIntegerOption('repetitions', '3')).toBe(3)
  })

  it('names the option and the value it refuses', () => {
    for (const value of ['0', '-1', '2.5', 'three', '', undefined]) {
      expect(() => positiveIntegerOption('repetitions', value)).toThrow(`--repetitions must be a positive integer, not ${value}`)
    }
  })
})
