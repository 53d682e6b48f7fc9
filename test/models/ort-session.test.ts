import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { FEATURE_COUNT } from '../../models/features.js'
import { OnnxSession } from '../../models/ort-session.js'
import { OnnxScorer, readManifest } from '../../models/scorer.js'
import { goldenBatch, goldenRows, SHIPPED_MODEL_DIRECTORY } from './shipped.js'

// models/ort-session.ts uses onnxruntime-node's native session, which is not its public API:
// these hold it to the public API's answers, so an upgrade that changes it fails here first.
describe('the synchronous ONNX session', () => {
  const manifest = readManifest(SHIPPED_MODEL_DIRECTORY)
  const bytes = readFileSync(path.join(SHIPPED_MODEL_DIRECTORY, manifest.file))
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' } as const

  it('describes the inputs and outputs as the public session does', async () => {
    const session = OnnxSession.fromBytes(bytes, options)
    const reference = await ort.InferenceSession.create(bytes, options)
    try {
      expect(session.inputs.map((input) => input.name)).toEqual(reference.inputNames)
      expect(session.outputs.map((output) => output.name)).toEqual(reference.outputNames)
      expect(session.inputs[0]).toEqual({ name: manifest.input.name, isTensor: true, type: 'float32', shape: [expect.any(String), FEATURE_COUNT] })
      expect(session.inputs.map(({ type, shape }) => ({ type, shape }))).toEqual(reference.inputMetadata.map((metadata) => (metadata.isTensor ? { type: metadata.type, shape: metadata.shape } : null)))
    } finally {
      session.release()
      await reference.release()
    }
  })

  it('scores the golden rows exactly as the public session does, and as the trainer did', async () => {
    const rows = goldenRows()
    const features = goldenBatch(rows)
    const feeds = { [manifest.input.name]: new ort.Tensor('float32', features, [rows.length, FEATURE_COUNT]) }
    const session = OnnxSession.fromBytes(bytes, options)
    const reference = await ort.InferenceSession.create(bytes, options)
    try {
      const outputs = session.run(feeds, [manifest.outputs.probability, manifest.outputs.margin])
      const expected = await reference.run(feeds)
      expect(Object.keys(outputs).sort()).toEqual([manifest.outputs.margin, manifest.outputs.probability].sort())
      for (const name of [manifest.outputs.probability, manifest.outputs.margin]) {
        expect(Array.from((outputs[name] as ort.Tensor).data as Float32Array)).toEqual(Array.from((expected[name] as ort.Tensor).data as Float32Array))
      }
      const probabilities = (outputs[manifest.outputs.probability] as ort.Tensor).data as Float32Array
      rows.forEach((row, index) => expect(Math.abs((probabilities[index] as number) - row.probability)).toBeLessThan(1e-5))
    } finally {
      session.release()
      await reference.release()
    }
  })

  it('runs within the call: a score resolves before what the event loop had queued (the public run waits for a setImmediate)', async () => {
    const scorer = await OnnxScorer.load(SHIPPED_MODEL_DIRECTORY)
    try {
      const order: string[] = []
      setImmediate(() => order.push('queued before the call'))
      await scorer.score(goldenBatch(goldenRows().slice(0, 3)), 3)
      order.push('scored')
      await new Promise((resolve) => setImmediate(resolve))
      expect(order).toEqual(['scored', 'queued before the call'])
    } finally {
      await scorer.release()
    }
  })

  it('refuses a run after release, and a model it cannot read', () => {
    const session = OnnxSession.fromBytes(bytes, options)
    session.release()
    session.release()
    expect(() => session.run({}, [manifest.outputs.probability])).toThrow('released')
    expect(() => OnnxSession.fromBytes(Buffer.from('not an onnx model'), options)).toThrow()
  })
})
