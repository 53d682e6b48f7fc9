/**
 * An ONNX Runtime session that runs when called, on the calling thread.
 *
 * Why not `InferenceSession.run` of onnxruntime-node: it returns a promise that runs the model in
 * a `setImmediate` callback, synchronously on the same thread (its dist/backend.js). The run
 * blocks the thread no less; the hop only lets everything already queued on the thread go first.
 * On a processing thread that is the other partitions' batches, and the withdrawal's decision
 * waited for them (the `score` stage of the latency bench, issue 10: mean ~1.2 ms, p99 10-20 ms
 * at 5k events/s, for a run of well under a millisecond).
 *
 * This uses the package's own native session (`dist/binding.js`, declared there as "a simple
 * synchronized inference session object wrap"), which its backend wraps. It is not part of the
 * package's public API, so package.json pins onnxruntime-node to the exact version this was
 * written against, and test/models/ort-session.test.ts checks it scores like the public API.
 *
 * Example:
 *   const session = OnnxSession.fromBytes(readFileSync('model.onnx'), { intraOpNumThreads: 1 })
 *   session.inputs[0]        // { name: 'features', isTensor: true, type: 'float32', shape: ['N', 23] }
 *   const { probabilities } = session.run({ features: new ort.Tensor('float32', rows, [n, 23]) }, ['probabilities'])
 *   session.release()
 */
import { createRequire } from 'node:module'
import type * as ort from 'onnxruntime-node'

/** The native module onnxruntime-node's backend wraps (its dist/binding.d.ts, reduced to what is used here). */
interface NativeValueMetadata {
  readonly name: string
  readonly isTensor: boolean
  readonly symbolicDimensions: readonly string[]
  readonly shape: readonly number[]
  readonly type: number
}
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: ort.InferenceSession.SessionOptions): void
  readonly inputMetadata: readonly NativeValueMetadata[]
  readonly outputMetadata: readonly NativeValueMetadata[]
  run(feeds: Readonly<Record<string, ort.Tensor>>, fetches: Readonly<Record<string, null>>, options: ort.InferenceSession.RunOptions): Record<string, ort.OnnxValue>
  dispose(): void
}
interface NativeBinding {
  readonly binding: { readonly InferenceSession: new () => NativeSession }
  readonly initOrt: () => void
}

const BINDING_MODULE = 'onnxruntime-node/dist/binding.js'

/** ONNX element types by the number the native module reports (onnxruntime-node's dist/backend.js). */
const ELEMENT_TYPES: ReadonlyArray<string | undefined> = [
  undefined, 'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool', 'float16', 'float64', 'uint32', 'uint64',
  undefined, undefined, undefined, undefined, undefined, undefined, undefined, 'uint4', 'int4',
]

export interface ValueInfo {
  readonly name: string
  readonly isTensor: boolean
  /** The element type (`float32`...); null for a non-tensor or a type this module does not name. */
  readonly type: string | null
  /** Dimensions; a symbolic one (a batch of any size) by its name. */
  readonly shape: ReadonlyArray<number | string>
}

let native: NativeBinding | null = null

function nativeBinding(): NativeBinding {
  if (native === null) {
    native = createRequire(import.meta.url)(BINDING_MODULE) as NativeBinding
    native.initOrt()
  }
  return native
}

const valueInfo = (metadata: NativeValueMetadata): ValueInfo => ({
  name: metadata.name,
  isTensor: metadata.isTensor,
  type: metadata.isTensor ? (ELEMENT_TYPES[metadata.type] ?? null) : null,
  shape: metadata.isTensor ? metadata.shape.map((dimension, index) => (dimension === -1 ? (metadata.symbolicDimensions[index] ?? '?') : dimension)) : [],
})

export class OnnxSession {
  private released = false

  private constructor(
    private readonly session: NativeSession,
    readonly inputs: readonly ValueInfo[],
    readonly outputs: readonly ValueInfo[],
  ) {}

  /** Loads a model from its bytes; throws ONNX Runtime's error for a model it cannot load. */
  static fromBytes(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): OnnxSession {
    const session = new (nativeBinding().binding.InferenceSession)()
    session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options)
    return new OnnxSession(session, session.inputMetadata.map(valueInfo), session.outputMetadata.map(valueInfo))
  }

  /** Runs the model now and returns the named outputs (only those are fetched). */
  run(feeds: Readonly<Record<string, ort.Tensor>>, outputNames: readonly string[]): Record<string, ort.Tensor> {
    if (this.released) throw new Error('the ONNX session was released')
    const fetches: Record<string, null> = {}
    for (const name of outputNames) fetches[name] = null
    return this.session.run(feeds, fetches, {}) as Record<string, ort.Tensor>
  }

  release(): void {
    if (this.released) return
    this.released = true
    this.session.dispose()
  }
}
