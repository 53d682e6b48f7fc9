/**
 * A structural pre-check of an Avro body against its writer schema, run before avsc decodes a
 * body whose schema has an array or a map.
 *
 * Why: avsc trusts block counts. A 40-byte garbage body that claims an array of 2^31 items makes
 * avsc allocate and loop until the process dies of heap exhaustion (measured: OOM after ~12 s),
 * so one poisoned record would take down a partition task instead of becoming a dead letter.
 * This walk reads the same bytes avsc will read, without building values, and refuses a body
 * whose lengths or counts cannot fit in the bytes that remain. Schemas without arrays or maps
 * (all six input topics today) skip it: their reads are bounded by the body's length anyway.
 *
 * Example:
 *   const problem = checkAvroBounds(writerType, bytes, 5)
 *   if (problem !== null) return failure('RISK_ERR_DECODE_AVRO', problem)
 */
import type { Type } from 'avsc'

/** Items that take no bytes (null, empty records) are allowed this many per block. */
const MAX_ZERO_SIZE_ITEMS_PER_BLOCK = 65_536
/** An Avro long takes at most 10 varint bytes. */
const MAX_VARINT_BYTES = 10

class BoundsError extends Error {}

interface Cursor {
  readonly bytes: Buffer
  position: number
}

function remaining(cursor: Cursor): number {
  return cursor.bytes.length - cursor.position
}

function readVarint(cursor: Cursor): number {
  let zigzag = 0
  let multiplier = 1
  for (let count = 0; count < MAX_VARINT_BYTES; count++) {
    if (cursor.position >= cursor.bytes.length) throw new BoundsError('the body ends inside a number')
    const byte = cursor.bytes[cursor.position++]!
    zigzag += (byte & 0x7f) * multiplier
    // Float arithmetic: exact below 2^53, and anything larger is refused by the callers' limits.
    if ((byte & 0x80) === 0) return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2
    multiplier *= 128
  }
  throw new BoundsError('a number is longer than 10 bytes')
}

function advance(cursor: Cursor, length: number, what: string): void {
  if (length < 0 || length > remaining(cursor)) throw new BoundsError(`${what} of ${length} bytes does not fit in the ${remaining(cursor)} bytes left`)
  cursor.position += length
}

const minimumSizes = new WeakMap<Type, number>()

/** Fewest bytes one value of the type can take. */
function minimumSize(type: Type): number {
  const known = minimumSizes.get(type)
  if (known !== undefined) return known
  let size: number
  switch (type.typeName) {
    case 'null': size = 0; break
    case 'float': size = 4; break
    case 'double': size = 8; break
    case 'fixed': size = (type as Type & { size: number }).size; break
    case 'record': case 'error':
      minimumSizes.set(type, 0) // recursive records: a cycle contributes nothing more
      size = (type as Type & { fields: Array<{ type: Type }> }).fields.reduce((sum, field) => sum + minimumSize(field.type), 0)
      break
    case 'logical': size = minimumSize((type as Type & { underlyingType: Type }).underlyingType); break
    default: size = 1 // boolean, int, long, enum, string, bytes, array, map, union: at least one byte
  }
  minimumSizes.set(type, size)
  return size
}

function blockCount(cursor: Cursor, itemType: Type, what: string): number {
  let count = readVarint(cursor)
  if (count < 0) {
    count = -count
    readVarint(cursor) // the block's size in bytes, which we do not need
  }
  const itemSize = minimumSize(itemType)
  const fits = itemSize === 0 ? count <= MAX_ZERO_SIZE_ITEMS_PER_BLOCK : count * itemSize <= remaining(cursor)
  if (!fits) throw new BoundsError(`${what} claims ${count} items, more than the ${remaining(cursor)} bytes left can hold`)
  return count
}

function skip(type: Type, cursor: Cursor): void {
  switch (type.typeName) {
    case 'null': return
    case 'boolean': advance(cursor, 1, 'a boolean'); return
    case 'int': case 'long': case 'abstract:long': case 'enum': readVarint(cursor); return
    case 'float': advance(cursor, 4, 'a float'); return
    case 'double': advance(cursor, 8, 'a double'); return
    case 'fixed': advance(cursor, (type as Type & { size: number }).size, 'a fixed'); return
    case 'string': case 'bytes': advance(cursor, readVarint(cursor), `a ${type.typeName}`); return
    case 'logical': skip((type as Type & { underlyingType: Type }).underlyingType, cursor); return
    case 'record': case 'error':
      for (const field of (type as Type & { fields: Array<{ type: Type }> }).fields) skip(field.type, cursor)
      return
    case 'array': {
      const items = (type as Type & { itemsType: Type }).itemsType
      for (let count = blockCount(cursor, items, 'an array block'); count !== 0; count = blockCount(cursor, items, 'an array block')) {
        for (let index = 0; index < count; index++) skip(items, cursor)
      }
      return
    }
    case 'map': {
      const values = (type as Type & { valuesType: Type }).valuesType
      for (let count = blockCount(cursor, values, 'a map block'); count !== 0; count = blockCount(cursor, values, 'a map block')) {
        for (let index = 0; index < count; index++) {
          advance(cursor, readVarint(cursor), 'a map key')
          skip(values, cursor)
        }
      }
      return
    }
    default: {
      if (type.typeName.startsWith('union')) {
        const branches = (type as Type & { types: Type[] }).types
        const index = readVarint(cursor)
        const branch = branches[index]
        if (branch === undefined) throw new BoundsError(`union branch ${index} does not exist`)
        skip(branch, cursor)
        return
      }
      throw new BoundsError(`cannot check Avro type ${type.typeName}`)
    }
  }
}

const repeatedFlags = new WeakMap<Type, boolean>()

/** True when the type contains an array or a map anywhere, i.e. when the pre-check matters. */
export function hasRepeatedValues(type: Type): boolean {
  const known = repeatedFlags.get(type)
  if (known !== undefined) return known
  repeatedFlags.set(type, false) // guards recursive records
  let result: boolean
  switch (type.typeName) {
    case 'array': case 'map': result = true; break
    case 'record': case 'error': result = (type as Type & { fields: Array<{ type: Type }> }).fields.some((field) => hasRepeatedValues(field.type)); break
    case 'logical': result = hasRepeatedValues((type as Type & { underlyingType: Type }).underlyingType); break
    default: result = type.typeName.startsWith('union') && (type as Type & { types: Type[] }).types.some(hasRepeatedValues)
  }
  repeatedFlags.set(type, result)
  return result
}

/**
 * Walks the body at `position` with the writer type; returns null when every length and count
 * fits in the buffer, or a one-line description of the first that does not. Trailing bytes are
 * not its concern (the decoder reports them).
 */
export function checkAvroBounds(type: Type, bytes: Buffer, position: number): string | null {
  try {
    skip(type, { bytes, position })
    return null
  } catch (error) {
    if (error instanceof BoundsError) return error.message
    throw error
  }
}
