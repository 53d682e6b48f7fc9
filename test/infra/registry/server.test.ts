import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { REGISTRY_CONTENT_TYPE, createRegistryServer } from '../../../infra/registry/server.js'

const deposit = (extraFields: object[] = []): string => JSON.stringify({
  type: 'record', name: 'Deposit', namespace: 'casino',
  fields: [{ name: 'playerId', type: 'string' }, { name: 'amountMinor', type: 'long' }, ...extraFields],
})
const subject = 'casino.deposits.v1-value'
const registryHeaders = { 'content-type': REGISTRY_CONTENT_TYPE, accept: REGISTRY_CONTENT_TYPE }

let dataDir: string
let app: FastifyInstance

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-registry-server-'))
  app = createRegistryServer({ dataDir, bodyLimitBytes: 64 * 1024 })
})

afterEach(async () => {
  await app.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

async function call(method: InjectOptions['method'], url: string, payload?: unknown, headers: Record<string, string> = registryHeaders): Promise<{ status: number; body: unknown; contentType: string | undefined }> {
  const response = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }) })
  return { status: response.statusCode, body: response.body === '' ? undefined : response.json(), contentType: response.headers['content-type'] as string | undefined }
}

describe('registry HTTP API', () => {
  it('registers, lists and reads back schemas and subjects', async () => {
    expect(await call('GET', '/')).toMatchObject({ status: 200, body: {} })
    expect(await call('GET', '/schemas/types')).toMatchObject({ status: 200, body: ['AVRO'] })
    expect(await call('POST', `/subjects/${subject}/versions`, { schema: deposit() })).toMatchObject({ status: 200, body: { id: 1 } })
    expect(await call('POST', '/subjects/audit-value/versions', { schema: deposit() })).toMatchObject({ status: 200, body: { id: 1 } })
    const evolved = deposit([{ name: 'currency', type: 'string', default: 'EUR' }])
    expect(await call('POST', `/subjects/${subject}/versions`, { schema: evolved, schemaType: 'AVRO' })).toMatchObject({ status: 200, body: { id: 2 } })

    expect((await call('GET', '/subjects')).body).toEqual(['audit-value', subject])
    expect((await call('GET', `/subjects/${subject}/versions`)).body).toEqual([1, 2])
    const latest = await call('GET', `/subjects/${subject}/versions/latest`)
    expect(latest.body).toEqual({ subject, version: 2, id: 2, schema: JSON.stringify(JSON.parse(evolved)) })
    expect((await call('GET', `/subjects/${subject}/versions/1`)).body).toMatchObject({ version: 1, id: 1 })
    expect((await call('GET', `/subjects/${subject}/versions/1/schema`)).body).toEqual(JSON.parse(deposit()))
    expect(await call('GET', '/schemas/ids/2')).toMatchObject({ status: 200, body: { schema: JSON.stringify(JSON.parse(evolved)) } })
    expect((await call('GET', '/schemas/ids/1/versions')).body).toEqual([{ subject: 'audit-value', version: 1 }, { subject, version: 1 }])
    expect(await call('POST', `/subjects/${subject}`, { schema: deposit() })).toMatchObject({ status: 200, body: { subject, version: 1, id: 1 } })
  })

  it('answers errors in Confluent shape with its codes', async () => {
    await call('POST', `/subjects/${subject}/versions`, { schema: deposit() })
    const cases: Array<[InjectOptions['method'], string, unknown, number, number]> = [
      ['GET', '/subjects/nobody-value/versions', undefined, 404, 40401],
      ['GET', `/subjects/${subject}/versions/9`, undefined, 404, 40402],
      ['GET', '/schemas/ids/42', undefined, 404, 40403],
      ['GET', '/schemas/ids/abc', undefined, 404, 40403],
      ['POST', `/subjects/${subject}`, { schema: '"string"' }, 404, 40403],
      ['POST', `/subjects/${subject}/versions`, { schema: deposit([{ name: 'currency', type: 'string' }]) }, 409, 409],
      ['POST', `/subjects/${subject}/versions`, { schema: '{"type":"record","name":"Deposit","fields":[{"name":"x","type":"nope"}]}' }, 422, 42201],
      ['POST', `/subjects/${subject}/versions`, { schema: '{"type":"object"}', schemaType: 'JSON' }, 422, 42201],
      ['POST', `/subjects/${subject}/versions`, { schemaText: deposit() }, 422, 42201],
      ['POST', `/subjects/${subject}/versions`, { schema: 12 }, 422, 42201],
      ['GET', `/subjects/${subject}/versions/first`, undefined, 422, 42202],
      ['PUT', '/config', { compatibility: 'LENIENT' }, 422, 42203],
      ['PUT', `/config/${subject}`, { level: 'FULL' }, 422, 42203],
      ['GET', `/config/${subject}`, undefined, 404, 40408],
      ['DELETE', `/subjects/${subject}?permanent=true`, undefined, 404, 40405],
      ['GET', '/no/such/route', undefined, 404, 404],
      ['POST', `/subjects/${subject}/versions`, '{"schema": ', 400, 400],
      ['POST', `/subjects/${subject}/versions`, { schema: `"${'x'.repeat(70 * 1024)}"` }, 413, 413],
    ]
    for (const [method, url, payload, status, errorCode] of cases) {
      const response = await call(method, url, payload)
      expect({ method, url, status: response.status, errorCode: (response.body as { error_code: number }).error_code }).toEqual({ method, url, status, errorCode })
      expect((response.body as { message: unknown }).message).toEqual(expect.any(String))
      expect(response.contentType).toContain(REGISTRY_CONTENT_TYPE)
    }
    const incompatible = await call('POST', `/subjects/${subject}/versions`, { schema: deposit([{ name: 'currency', type: 'string' }]) })
    expect((incompatible.body as { message: string }).message).toMatch(/incompatible .* no matching field for default-less casino.Deposit.currency/)
  })

  it('accepts and answers application/json as well as the registry type, and nothing else', async () => {
    const json = { 'content-type': 'application/json', accept: 'application/json' }
    const registered = await call('POST', `/subjects/${subject}/versions`, { schema: deposit() }, json)
    expect(registered).toMatchObject({ status: 200, body: { id: 1 } })
    expect(registered.contentType).toMatch(/^application\/json/)
    expect((await call('GET', `/subjects/${subject}/versions/latest`, undefined, {})).contentType).toContain(REGISTRY_CONTENT_TYPE)
    expect((await call('GET', '/nope', undefined, { accept: 'application/json' })).contentType).toMatch(/^application\/json/)
    const plain = await call('POST', `/subjects/${subject}/versions`, 'schema=x', { 'content-type': 'text/plain' })
    expect(plain).toMatchObject({ status: 415, body: { error_code: 415 } })
    // Confluent's client sends its content type on bodyless requests too.
    expect(await call('DELETE', `/subjects/${subject}`)).toMatchObject({ status: 200, body: [1] })
  })

  it('tests compatibility without registering', async () => {
    await call('POST', `/subjects/${subject}/versions`, { schema: deposit() })
    const compatible = { schema: deposit([{ name: 'currency', type: 'string', default: 'EUR' }]) }
    const incompatible = { schema: deposit([{ name: 'currency', type: 'string' }]) }
    expect((await call('POST', `/compatibility/subjects/${subject}/versions/latest`, compatible)).body).toEqual({ is_compatible: true })
    expect((await call('POST', `/compatibility/subjects/${subject}/versions/1`, incompatible)).body).toEqual({ is_compatible: false })
    const verbose = await call('POST', `/compatibility/subjects/${subject}/versions?verbose=true`, incompatible)
    expect(verbose.body).toEqual({ is_compatible: false, messages: [expect.stringContaining('version 1')] })
    expect((await call('POST', '/compatibility/subjects/nobody-value/versions/latest', incompatible)).body).toEqual({ is_compatible: true })
    expect((await call('POST', '/compatibility/subjects/nobody-value/versions/3', incompatible)).body).toMatchObject({ error_code: 40401 })
    expect((await call('GET', `/subjects/${subject}/versions`)).body).toEqual([1])
  })

  it('reads and sets compatibility levels globally and per subject', async () => {
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' })
    expect((await call('PUT', '/config', { compatibility: 'FULL' })).body).toEqual({ compatibility: 'FULL' })
    expect((await call('GET', `/config/${subject}?defaultToGlobal=true`)).body).toEqual({ compatibilityLevel: 'FULL' })
    expect((await call('PUT', `/config/${subject}`, { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' })
    expect((await call('GET', `/config/${subject}`)).body).toEqual({ compatibilityLevel: 'NONE' })
    await call('POST', `/subjects/${subject}/versions`, { schema: deposit() })
    expect((await call('POST', `/subjects/${subject}/versions`, { schema: '"string"' })).body).toEqual({ id: 2 })
    expect((await call('DELETE', `/config/${subject}`)).body).toEqual({ compatibilityLevel: 'NONE' })
    expect((await call('GET', `/config/${subject}`)).status).toBe(404)
  })

  it('soft- and hard-deletes subjects', async () => {
    await call('POST', `/subjects/${subject}/versions`, { schema: deposit() })
    expect((await call('DELETE', `/subjects/${subject}`)).body).toEqual([1])
    expect((await call('GET', '/subjects')).body).toEqual([])
    expect((await call('GET', '/subjects?deleted=true')).body).toEqual([subject])
    expect((await call('GET', `/subjects/${subject}/versions/1?deleted=true`)).body).toMatchObject({ id: 1 })
    expect((await call('GET', '/schemas/ids/1')).status).toBe(200)
    expect((await call('DELETE', `/subjects/${subject}`)).body).toMatchObject({ error_code: 40404 })
    expect((await call('DELETE', `/subjects/${subject}?permanent=true`)).body).toEqual([1])
    expect((await call('GET', '/schemas/ids/1')).body).toMatchObject({ error_code: 40403 })
  })

  it('keeps what it acknowledged across a restart', async () => {
    await call('POST', `/subjects/${subject}/versions`, { schema: deposit() })
    await call('PUT', `/config/${subject}`, { compatibility: 'FORWARD' })
    await app.close()
    app = createRegistryServer({ dataDir })
    expect((await call('GET', `/subjects/${subject}/versions/latest`)).body).toMatchObject({ id: 1, version: 1 })
    expect((await call('GET', `/config/${subject}`)).body).toEqual({ compatibilityLevel: 'FORWARD' })
  })
})
