/**
 * The model routes on a real ModelService over a copy of the shipped model (test/api/helpers.ts):
 * status, upload (checked, never overwriting), shadow, activate, rollback, refusals, audit.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHIPPED_MODEL_FOLDER, SHIPPED_MODELS_DIRECTORY } from '../../../models/service.js'
import { bearer, buildTestApp, tokenFor, type TestApp } from '../helpers.js'

const scientist = bearer(tokenFor(['data_scientist'], 'dana'))
const officer = bearer(tokenFor(['compliance_officer'], 'olga'))

function uploadBody(folder: string, edit: (manifest: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  const source = path.join(SHIPPED_MODELS_DIRECTORY, SHIPPED_MODEL_FOLDER)
  const manifest = JSON.parse(fs.readFileSync(path.join(source, 'manifest.json'), 'utf8')) as Record<string, unknown>
  manifest.modelVersion = '2.0.0'
  edit(manifest)
  return { folder, manifest, onnxBase64: fs.readFileSync(path.join(source, 'model.onnx')).toString('base64') }
}

function auditLines(test: TestApp): Array<Record<string, unknown>> {
  return fs.readFileSync(test.audit.path, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('model routes', () => {
  let test: TestApp
  beforeAll(async () => { test = await buildTestApp() })
  afterAll(async () => test.close())

  it('shows the shipped champion, the available folders and an empty history', async () => {
    const response = await test.app.inject({ method: 'GET', url: '/models', headers: officer })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({
      current: { champion: { folder: SHIPPED_MODEL_FOLDER, modelId: 'withdrawal-typology-xgb', modelVersion: '2.0.0' }, shadows: [] },
      available: [SHIPPED_MODEL_FOLDER],
      history: [],
    })
  })

  it('uploads a model, refuses a broken one (422) and an existing folder (400)', async () => {
    const uploaded = await test.app.inject({ method: 'POST', url: '/models/upload', headers: scientist, payload: uploadBody('burst-v2') })
    expect(uploaded.statusCode).toBe(201)
    expect(uploaded.json()).toMatchObject({ folder: 'burst-v2', model: 'withdrawal-typology-xgb@2.0.0', available: ['burst-v2', SHIPPED_MODEL_FOLDER] })

    const wrongSha = await test.app.inject({ method: 'POST', url: '/models/upload', headers: scientist, payload: uploadBody('burst-bad', (manifest) => { manifest.sha256 = 'f'.repeat(64) }) })
    expect(wrongSha.statusCode).toBe(422)
    expect(wrongSha.json().error.code).toBe('RISK_ERR_MODEL_MISMATCH')
    const pathInManifest = await test.app.inject({ method: 'POST', url: '/models/upload', headers: scientist, payload: uploadBody('burst-evil', (manifest) => { manifest.file = '../../x.onnx' }) })
    expect(pathInManifest.statusCode).toBe(422)
    const again = await test.app.inject({ method: 'POST', url: '/models/upload', headers: scientist, payload: uploadBody('burst-v2') })
    expect(again.statusCode).toBe(400)
    expect(again.json().error.message).toMatch(/already exists/)
    const badFolder = await test.app.inject({ method: 'POST', url: '/models/upload', headers: scientist, payload: uploadBody('../escape') })
    expect(badFolder.statusCode).toBe(400)
    expect((await test.app.inject({ method: 'GET', url: '/models', headers: scientist })).json().available).toEqual(['burst-v2', SHIPPED_MODEL_FOLDER])
  })

  it('shadows, activates and rolls back, each audited with before and after', async () => {
    const shadowed = await test.app.inject({ method: 'POST', url: '/models/burst-v2/shadow', headers: scientist })
    expect(shadowed.statusCode).toBe(200)
    expect(shadowed.json()).toMatchObject({ changed: true, entry: { action: 'shadow', actor: 'dana', after: { champion: SHIPPED_MODEL_FOLDER, shadows: ['burst-v2'] } } })
    const noop = await test.app.inject({ method: 'POST', url: '/models/burst-v2/shadow', headers: scientist })
    expect(noop.json()).toMatchObject({ changed: false, entry: null })

    const activated = await test.app.inject({ method: 'POST', url: '/models/burst-v2/activate', headers: scientist })
    expect(activated.json()).toMatchObject({ changed: true, current: { champion: { folder: 'burst-v2', modelVersion: '2.0.0' }, shadows: [] } })
    const rolledBack = await test.app.inject({ method: 'POST', url: '/models/rollback', headers: scientist })
    expect(rolledBack.json()).toMatchObject({ changed: true, entry: { action: 'rollback', folder: SHIPPED_MODEL_FOLDER }, current: { champion: { folder: SHIPPED_MODEL_FOLDER } } })

    const status = (await test.app.inject({ method: 'GET', url: '/models', headers: scientist })).json()
    expect(status.history.map((entry: { action: string }) => entry.action)).toEqual(['rollback', 'activate', 'shadow', 'upload'])

    const entries = auditLines(test).filter((entry) => String(entry.action).startsWith('model.'))
    expect(entries.map((entry) => entry.action)).toEqual(['model.upload', 'model.shadow', 'model.shadow', 'model.activate', 'model.rollback'])
    expect(entries[3]).toMatchObject({
      actor: { subject: 'dana' }, entity: { type: 'model', id: 'burst-v2' },
      before: { champion: SHIPPED_MODEL_FOLDER, shadows: ['burst-v2'] }, after: { champion: 'burst-v2', shadows: [] },
    })
  })

  it('answers coded 4xx for an unknown folder, shadowing the champion and the wrong role', async () => {
    const unknown = await test.app.inject({ method: 'POST', url: '/models/nope/activate', headers: scientist })
    expect(unknown.statusCode).toBe(400)
    expect(unknown.json().error.message).toMatch(/no model folder nope/)
    const champion = await test.app.inject({ method: 'POST', url: `/models/${SHIPPED_MODEL_FOLDER}/shadow`, headers: scientist })
    expect(champion.statusCode).toBe(400)
    expect((await test.app.inject({ method: 'POST', url: '/models/burst-v2/activate', headers: officer })).statusCode).toBe(403)
  })
})
