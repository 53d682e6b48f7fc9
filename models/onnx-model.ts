/**
 * A minimal reader of the ONNX protobuf: the graph's inputs and outputs, its metadata
 * properties and the attributes of its nodes — enough to check a model against its manifest and
 * to read a TreeEnsemble's trees for explanations. onnxruntime-node does not expose node
 * attributes, and no protobuf library is a dependency of pitboss, so this decodes the wire format
 * itself (field numbers from onnx/onnx.proto, IR version 8).
 *
 * Example:
 *   const model = readOnnxModel(readFileSync('models/shipped/withdrawal-burst-xgb-v1/model.onnx'))
 *   model.metadata['pitboss.model_id']          // 'withdrawal-burst-xgb'
 *   model.nodes.find((node) => node.opType === 'TreeEnsembleRegressor')?.attributes.nodes_values
 */
import { RiskError } from '../core/errors.js'

export type OnnxAttributeValue = number | string | readonly number[] | readonly string[]

export interface OnnxNode {
  readonly opType: string
  readonly domain: string
  readonly name: string
  readonly inputs: readonly string[]
  readonly outputs: readonly string[]
  readonly attributes: Readonly<Record<string, OnnxAttributeValue>>
}

export interface OnnxModel {
  readonly inputs: readonly string[]
  readonly outputs: readonly string[]
  readonly metadata: Readonly<Record<string, string>>
  readonly nodes: readonly OnnxNode[]
}

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_LENGTH = 2
const WIRE_FIXED32 = 5

interface Field { readonly number: number; readonly wireType: number; readonly varint: bigint; readonly bytes: Uint8Array }

/** The fields of one message, in order. Length-delimited fields keep a view of their bytes. */
function fields(buffer: Uint8Array): Field[] {
  const result: Field[] = []
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  let position = 0
  const varint = (): bigint => {
    let value = 0n
    let shift = 0n
    for (;;) {
      if (position >= buffer.length) throw new Error('truncated varint')
      const byte = buffer[position++] as number
      value |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return value
      shift += 7n
    }
  }
  while (position < buffer.length) {
    const key = Number(varint())
    const number = key >>> 3
    const wireType = key & 7
    if (wireType === WIRE_VARINT) {
      result.push({ number, wireType, varint: varint(), bytes: new Uint8Array() })
    } else if (wireType === WIRE_LENGTH) {
      const length = Number(varint())
      if (position + length > buffer.length) throw new Error('truncated field')
      result.push({ number, wireType, varint: 0n, bytes: buffer.subarray(position, position + length) })
      position += length
    } else if (wireType === WIRE_FIXED32) {
      result.push({ number, wireType, varint: BigInt(view.getUint32(position, true)), bytes: buffer.subarray(position, position + 4) })
      position += 4
    } else if (wireType === WIRE_FIXED64) {
      result.push({ number, wireType, varint: view.getBigUint64(position, true), bytes: buffer.subarray(position, position + 8) })
      position += 8
    } else {
      throw new Error(`unsupported wire type ${wireType}`)
    }
  }
  return result
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const int64 = (value: bigint): number => Number(BigInt.asIntN(64, value))
const float32 = (bytes: Uint8Array, at = 0): number => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32(at, true)

function stringField(message: Uint8Array, number: number): string {
  const field = fields(message).find((candidate) => candidate.number === number)
  return field === undefined ? '' : text(field.bytes)
}

/** AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, strings 9 (repeated ones packed or not). */
function attribute(message: Uint8Array): [string, OnnxAttributeValue] {
  let name = ''
  let single: OnnxAttributeValue | undefined
  const floats: number[] = []
  const ints: number[] = []
  const strings: string[] = []
  for (const field of fields(message)) {
    if (field.number === 1) name = text(field.bytes)
    else if (field.number === 2) single = float32(field.bytes)
    else if (field.number === 3) single = int64(field.varint)
    else if (field.number === 4) single = text(field.bytes)
    else if (field.number === 7) {
      if (field.wireType === WIRE_FIXED32) floats.push(float32(field.bytes))
      else for (let at = 0; at < field.bytes.length; at += 4) floats.push(float32(field.bytes, at))
    } else if (field.number === 8) {
      if (field.wireType === WIRE_VARINT) ints.push(int64(field.varint))
      else for (const packed of fields(prefixPacked(field.bytes))) ints.push(int64(packed.varint))
    } else if (field.number === 9) strings.push(text(field.bytes))
  }
  const value = single ?? (floats.length > 0 ? floats : ints.length > 0 ? ints : strings)
  return [name, value]
}

/** Packed varints carry no keys: give each one the key of field 1 / varint so `fields` can read them. */
function prefixPacked(bytes: Uint8Array): Uint8Array {
  const out: number[] = []
  let start = true
  for (const byte of bytes) {
    if (start) out.push(0x08)
    out.push(byte)
    start = (byte & 0x80) === 0
  }
  return Uint8Array.from(out)
}

/**
 * Decodes a serialized ModelProto. Throws RISK_ERR_MODEL_MISMATCH (a model that cannot be read is refused like
 * one that does not match its manifest) when the bytes are not an ONNX model.
 */
export function readOnnxModel(bytes: Uint8Array, source = 'model'): OnnxModel {
  try {
    const model = fields(bytes)
    const graph = model.find((field) => field.number === 7)
    if (graph === undefined) throw new Error('no graph')
    const metadata: Record<string, string> = {}
    for (const field of model) {
      if (field.number === 14) metadata[stringField(field.bytes, 1)] = stringField(field.bytes, 2)
    }
    const inputs: string[] = []
    const outputs: string[] = []
    const nodes: OnnxNode[] = []
    for (const field of fields(graph.bytes)) {
      if (field.number === 11) inputs.push(stringField(field.bytes, 1))
      else if (field.number === 12) outputs.push(stringField(field.bytes, 1))
      else if (field.number === 1) {
        const node = { opType: '', domain: '', name: '', inputs: [] as string[], outputs: [] as string[], attributes: {} as Record<string, OnnxAttributeValue> }
        for (const part of fields(field.bytes)) {
          if (part.number === 1) node.inputs.push(text(part.bytes))
          else if (part.number === 2) node.outputs.push(text(part.bytes))
          else if (part.number === 3) node.name = text(part.bytes)
          else if (part.number === 4) node.opType = text(part.bytes)
          else if (part.number === 7) node.domain = text(part.bytes)
          else if (part.number === 5) {
            const [name, value] = attribute(part.bytes)
            node.attributes[name] = value
          }
        }
        nodes.push(node)
      }
    }
    return { inputs, outputs, metadata, nodes }
  } catch (error) {
    if (error instanceof RiskError) throw error
    throw new RiskError('RISK_ERR_MODEL_MISMATCH', `${source} is not a readable ONNX model (${error instanceof Error ? error.message : String(error)}); re-export it with models/training/train.py`, { source }, { cause: error })
  }
}
