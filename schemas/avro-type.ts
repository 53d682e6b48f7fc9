/**
 * Parsing Avro schemas into avsc types, with pitboss's one rule on longs: an Avro `long` is a JS
 * `number` holding a safe integer (|n| <= 2^53 - 1), and anything beyond that is refused, on
 * encode and on decode, rather than silently rounded. Money is integer minor units and must
 * never lose precision; timestamps in milliseconds and Kafka offsets fit easily.
 *
 * Every schema pitboss parses (catalog schemas, writer schemas from the registry, test schemas)
 * goes through `parseAvroSchema`, so the rule holds for readers and writers alike.
 *
 * Example:
 *   const type = parseAvroSchema({ type: 'record', name: 'A', fields: [{ name: 'n', type: 'long' }] })
 *   type.toBuffer({ n: 2 ** 53 })   // throws: not a safe integer
 *   type.fromBuffer(bytesOf2Pow60)   // throws: long beyond 2^53
 */
import avro from 'avsc'
import type { Schema, Type } from 'avsc'

const TWO_POW_7 = 128

/** Zigzag varint bytes of a safe integer (Avro spec, "Binary Encoding": long). */
function encodeLongVarint(value: number): Buffer {
  if (Math.abs(value) >= 2 ** 52) return encodeLongVarintBig(BigInt(value))
  // Below 2^52 the zigzag value stays below 2^53, so float arithmetic is exact.
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1
  const bytes: number[] = []
  while (zigzag >= TWO_POW_7) {
    bytes.push((zigzag % TWO_POW_7) | 0x80)
    zigzag = Math.floor(zigzag / TWO_POW_7)
  }
  bytes.push(zigzag)
  return Buffer.from(bytes)
}

function encodeLongVarintBig(value: bigint): Buffer {
  let zigzag = value >= 0n ? value * 2n : -value * 2n - 1n
  const bytes: number[] = []
  while (zigzag >= 128n) {
    bytes.push(Number(zigzag & 0x7fn) | 0x80)
    zigzag >>= 7n
  }
  bytes.push(Number(zigzag))
  return Buffer.from(bytes)
}

/** Reads the zigzag varint bytes avsc hands over (noUnpack mode) into a safe integer, or throws. */
function decodeLongVarint(bytes: Buffer): number {
  // Up to 7 varint bytes carry 49 bits: exact in float arithmetic, and the common case
  // (timestamps in milliseconds take 6 bytes, amounts fewer).
  if (bytes.length <= 7) {
    let zigzag = 0
    let multiplier = 1
    for (let index = 0; index < bytes.length; index++) {
      zigzag += (bytes[index]! & 0x7f) * multiplier
      multiplier *= TWO_POW_7
    }
    return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2
  }
  let zigzag = 0n
  let shift = 0n
  for (const byte of bytes) {
    zigzag |= BigInt(byte & 0x7f) << shift
    shift += 7n
  }
  const value = (zigzag & 1n) === 0n ? zigzag >> 1n : -((zigzag + 1n) >> 1n)
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`long value ${value} is beyond ±(2^53 - 1) and cannot be read as a number without losing precision`)
  }
  return Number(value)
}

function assertSafeLong(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new RangeError(`long value ${String(value)} is not a safe integer (|n| <= 2^53 - 1)`)
  }
  return value
}

const SAFE_LONG_METHODS = {
  fromBuffer: decodeLongVarint,
  toBuffer: (value: number) => encodeLongVarint(assertSafeLong(value)),
  fromJSON: assertSafeLong,
  toJSON: (value: number) => value,
  isValid: (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value),
  compare: (left: number, right: number) => (left < right ? -1 : left > right ? 1 : 0),
}

/** What SafeLongType uses of avsc's Tap (lib/utils.js), which avsc's typings leave out. */
interface AvscTap {
  readonly buf: Buffer
  pos: number
  writeLong(value: number): void
}

interface AvscLongType extends Type {
  _read(tap: AvscTap): number | undefined
  _write(tap: AvscTap, value: unknown): void
}

/**
 * avsc's AbstractLongType, the class `LongType.__with` makes an instance of and freezes (avsc
 * does not export it by name): its constructor takes `noUnpack`.
 */
const AbstractLongType = Object.getPrototypeOf(avro.types.LongType.__with(SAFE_LONG_METHODS, true)).constructor as new (noUnpack: boolean) => AvscLongType

const TWO_POW_52 = 2 ** 52

/**
 * `LongType.__with`'s type with the common longs read and written in place on avsc's Tap. The
 * abstract type hands every long over as a Buffer of its varint bytes (a slice to read, a new
 * Buffer and array to write): ~1 kB of garbage per event, the largest allocation after the
 * decoded events themselves (issue 10, bench/alloc-profile.ts). Up to 7 varint bytes (49 bits:
 * every amount and millisecond timestamp) are read in float arithmetic, exact there; a value
 * below 2^52 is written with the Tap's own writeLong, exact there (its float path loses
 * precision past 2^52, see test/schemas/avro-type.test.ts). Anything longer or larger takes the
 * Buffer path above, which is exact (BigInt) and refuses what is not a safe integer.
 */
class SafeLongType extends AbstractLongType {
  override _read(tap: AvscTap): number | undefined {
    const buf = tap.buf
    const start = tap.pos
    let pos = start
    let zigzag = 0
    let multiplier = 1
    for (;;) {
      const byte = buf[pos++]
      // Past the end: the tap is left invalid (pos > length), as avsc's own reads leave it on a truncated buffer.
      if (byte === undefined) {
        tap.pos = pos
        return undefined
      }
      zigzag += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) {
        tap.pos = pos
        return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2
      }
      if (pos - start === 7) break
      multiplier *= TWO_POW_7
    }
    while (((buf[pos++] as number) & 0x80) !== 0) { /* the rest of a long varint */ }
    tap.pos = pos
    if (pos > buf.length) return undefined
    return decodeLongVarint(buf.subarray(start, pos))
  }

  override _write(tap: AvscTap, value: unknown): void {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > -TWO_POW_52 && value < TWO_POW_52) tap.writeLong(value)
    else super._write(tap, value)
  }
}

/**
 * The long type every pitboss schema uses: numbers only, safe integers only. avsc's
 * `LongType.__with` in "noUnpack" mode (the raw varint bytes, kept on a float-only path for the
 * common short longs), built the way `__with` builds it, with SafeLongType's in-place reads and
 * writes of the common longs.
 */
export const SAFE_LONG_TYPE: Type = Object.freeze(Object.assign(new SafeLongType(true), {
  _fromBuffer: SAFE_LONG_METHODS.fromBuffer, _toBuffer: SAFE_LONG_METHODS.toBuffer, _fromJSON: SAFE_LONG_METHODS.fromJSON,
  _toJSON: SAFE_LONG_METHODS.toJSON, _isValid: SAFE_LONG_METHODS.isValid, compare: SAFE_LONG_METHODS.compare,
}))

/**
 * avsc builds `{ "type": "long", "logicalType": ... }` without consulting its registry, so a
 * type hook (called for every schema node) is what makes timestamps safe longs too. Logical
 * types are otherwise ignored on purpose: `timestamp-millis` stays a number, not a Date.
 */
function safeLongHook(schema: Schema): Type | undefined {
  if (schema === 'long') return SAFE_LONG_TYPE
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema) && (schema as { type?: unknown }).type === 'long') return SAFE_LONG_TYPE
  return undefined
}

/**
 * Parses an Avro schema (JSON text or object) into an avsc Type with safe longs. Unions of null
 * and one type decode to `T | null` (avsc's unwrapped unions). Throws avsc's error on an
 * invalid schema.
 */
export function parseAvroSchema(schema: string | object): Type {
  const definition = typeof schema === 'string' ? (JSON.parse(schema) as Schema) : (schema as Schema)
  return avro.Type.forSchema(definition, { typeHook: safeLongHook, wrapUnions: 'auto' })
}
