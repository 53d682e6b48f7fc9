import { describe, expect, it } from 'vitest'
import avro from 'avsc'
import { parseAvroSchema } from '../../schemas/avro-type.js'

/** Reference zigzag varint encoder on BigInt (Avro spec, "Binary Encoding"). */
function referenceLong(value: bigint): Buffer {
  let zigzag = value >= 0n ? value * 2n : -value * 2n - 1n
  const bytes: number[] = []
  while (zigzag >= 128n) {
    bytes.push(Number(zigzag & 0x7fn) | 0x80)
    zigzag >>= 7n
  }
  bytes.push(Number(zigzag))
  return Buffer.from(bytes)
}

const recordType = parseAvroSchema({
  type: 'record',
  name: 'Sample',
  fields: [
    { name: 'amountMinor', type: 'long' },
    { name: 'atMs', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'untilMs', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }], default: null },
  ],
})
const longType = parseAvroSchema('"long"')

const SAFE = Number.MAX_SAFE_INTEGER
const boundaries = [0, 1, -1, 63, -64, 64, -65, 2 ** 31, -(2 ** 31) - 1, 1_715_690_412_345, 2 ** 48, 2 ** 52 - 1, 2 ** 52, -(2 ** 52), 2 ** 52 + 1, -(2 ** 52) - 1, SAFE - 1, SAFE, -SAFE]

describe('safe long type', () => {
  it.each(boundaries)('encodes %d exactly as the Avro spec says and reads it back', (value) => {
    expect(longType.toBuffer(value).toString('hex')).toBe(referenceLong(BigInt(value)).toString('hex'))
    expect(longType.fromBuffer(referenceLong(BigInt(value)))).toBe(value)
  })

  it('is exact where avsc\'s built-in long goes wrong (|n| above 2^52)', () => {
    // avsc 5.7's own LongType works in float arithmetic past 2^52: it writes the wrong bytes for
    // -(2^52 + 1), and reads the correct bytes back as +2^52 (sign and value lost, no error).
    const value = -(2 ** 52) - 1
    const builtIn = avro.Type.forSchema('long')
    expect(builtIn.toBuffer(value).equals(referenceLong(BigInt(value)))).toBe(false)
    expect(builtIn.fromBuffer(referenceLong(BigInt(value)))).toBe(2 ** 52)
    expect(longType.toBuffer(value).equals(referenceLong(BigInt(value)))).toBe(true)
    expect(longType.fromBuffer(referenceLong(BigInt(value)))).toBe(value)
  })

  it('applies to timestamps and nullable longs too', () => {
    const value = { amountMinor: 49_500, atMs: 1_715_690_412_345, untilMs: SAFE }
    expect(recordType.fromBuffer(recordType.toBuffer(value))).toEqual(value)
    expect(typeof recordType.fromBuffer(recordType.toBuffer(value)).atMs).toBe('number')
    expect(recordType.isValid({ ...value, untilMs: 2 ** 53 })).toBe(false)
    expect(recordType.isValid({ ...value, atMs: 2 ** 53 })).toBe(false)
  })

  it.each([2 ** 53, -(2 ** 53), 2 ** 60, 1.5, Number.NaN, Infinity])('refuses to encode %d', (value) => {
    expect(longType.isValid(value)).toBe(false)
    expect(() => longType.toBuffer(value)).toThrow()
  })

  it.each([2n ** 53n, -(2n ** 53n) - 1n, 2n ** 62n, -(2n ** 63n)])('refuses to decode %d instead of rounding it', (value) => {
    expect(() => longType.fromBuffer(referenceLong(value))).toThrow(/beyond/)
    expect(() => recordType.fromBuffer(Buffer.concat([referenceLong(value), referenceLong(0n), Buffer.from([0])]))).toThrow(/beyond/)
  })

  it('reads and writes random safe integers of every length exactly as the reference does', () => {
    // Deterministic: magnitudes 2^0..2^53 with both signs, the in-place paths (up to 7 varint
    // bytes, below 2^52) and the exact Buffer path beyond them alike.
    let state = 12345
    const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let index = 0; index < 5000; index += 1) {
      const bits = Math.floor(next() * 54)
      const magnitude = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(next() * 2 ** bits))
      const value = next() < 0.5 && magnitude > 0 ? -magnitude : magnitude
      const reference = referenceLong(BigInt(value))
      expect(longType.toBuffer(value).toString('hex')).toBe(reference.toString('hex'))
      expect(longType.fromBuffer(reference)).toBe(value)
      expect(recordType.fromBuffer(recordType.toBuffer({ amountMinor: value, atMs: 1, untilMs: value })).untilMs).toBe(value)
    }
  })

  it.each([1, 3, 6, 7])('refuses a long cut short after %d of its 8 bytes', (keep) => {
    const bytes = referenceLong(-(2n ** 52n) - 12345n) // 8 varint bytes
    expect(() => longType.fromBuffer(bytes.subarray(0, keep))).toThrow(/truncated/)
    expect(() => recordType.fromBuffer(bytes.subarray(0, keep))).toThrow(/truncated/)
  })

  it('promotes an int writer to a long reader', () => {
    const intType = parseAvroSchema('"int"')
    expect(longType.fromBuffer(intType.toBuffer(-12345), longType.createResolver(intType))).toBe(-12345)
  })
})
