import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRiskError, type ErrorCode } from '../../core/errors.js'
import { createHttpRegistryClient } from '../../schemas/codec.js'

interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly contentType: string | undefined
  readonly body: string
}

/** A scripted HTTP registry on 127.0.0.1, port 0: each test sets how it answers. */
let server: Server
let baseUrl: string
let answer: (request: SeenRequest, response: ServerResponse) => void = () => undefined
const seen: SeenRequest[] = []

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
  response.end(JSON.stringify(body))
}

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const seenRequest = { method: request.method ?? '', url: request.url ?? '', contentType: request.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }
      seen.push(seenRequest)
      answer(seenRequest, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

async function failureOf(promise: Promise<unknown>): Promise<{ code: ErrorCode; retriable: boolean; message: string }> {
  const error = await promise.then(() => null, (caught: unknown) => caught)
  if (!isRiskError(error)) throw new Error(`expected a RiskError, got ${String(error)}`)
  return { code: error.code, retriable: error.retriable, message: error.message }
}

describe('createHttpRegistryClient', () => {
  it('registers with POST /subjects/{subject}/versions in the registry content type', async () => {
    answer = (_request, response) => json(response, 200, { id: 7 })
    seen.length = 0
    const client = createHttpRegistryClient(`${baseUrl}/`)
    expect(await client.register('t1.casino.deposits.v1-value', '{"type":"string"}')).toBe(7)
    expect(seen).toEqual([{ method: 'POST', url: '/subjects/t1.casino.deposits.v1-value/versions', contentType: 'application/vnd.schemaregistry.v1+json', body: JSON.stringify({ schema: '{"type":"string"}' }) }])
  })

  it('reads a schema with GET /schemas/ids/{id}, and null for an unknown id', async () => {
    answer = (request, response) => (request.url === '/schemas/ids/3' ? json(response, 200, { schema: '"string"' }) : json(response, 404, { error_code: 40403, message: 'Schema 4 not found' }))
    const client = createHttpRegistryClient(baseUrl)
    expect(await client.getSchemaById(3)).toBe('"string"')
    expect(await client.getSchemaById(4)).toBeNull()
  })

  it.each([409, 422])('turns %d into RISK_ERR_REGISTRY_REJECTED with the registry\'s message', async (status) => {
    answer = (_request, response) => json(response, status, { error_code: status, message: 'Schema being registered is incompatible with an earlier schema' })
    const failure = await failureOf(createHttpRegistryClient(baseUrl).register('s-value', '"int"'))
    expect(failure).toMatchObject({ code: 'RISK_ERR_REGISTRY_REJECTED', retriable: false })
    expect(failure.message).toContain('incompatible with an earlier schema')
  })

  it.each([500, 503])('turns %d into the retriable RISK_ERR_REGISTRY_UNAVAILABLE', async (status) => {
    answer = (_request, response) => json(response, status, { error_code: 50001, message: 'Error in the backend data store' })
    const client = createHttpRegistryClient(baseUrl)
    expect(await failureOf(client.register('s-value', '"int"'))).toMatchObject({ code: 'RISK_ERR_REGISTRY_UNAVAILABLE', retriable: true })
    expect(await failureOf(client.getSchemaById(1))).toMatchObject({ code: 'RISK_ERR_REGISTRY_UNAVAILABLE', retriable: true })
  })

  it('treats an answer without an id as unavailable, not as an id', async () => {
    answer = (_request, response) => json(response, 200, { version: 1 })
    expect(await failureOf(createHttpRegistryClient(baseUrl).register('s-value', '"int"'))).toMatchObject({ code: 'RISK_ERR_REGISTRY_UNAVAILABLE' })
  })

  it('turns a registry that does not answer in time into RISK_ERR_REGISTRY_UNAVAILABLE', async () => {
    answer = () => undefined // never answers
    const failure = await failureOf(createHttpRegistryClient(baseUrl, { timeoutMs: 200 }).getSchemaById(1))
    expect(failure).toMatchObject({ code: 'RISK_ERR_REGISTRY_UNAVAILABLE', retriable: true })
  })

  it('turns a refused connection into RISK_ERR_REGISTRY_UNAVAILABLE', async () => {
    // A port that was just free: bind one, close it, and talk to it.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const failure = await failureOf(createHttpRegistryClient(`http://127.0.0.1:${port}`).getSchemaById(1))
    expect(failure).toMatchObject({ code: 'RISK_ERR_REGISTRY_UNAVAILABLE', retriable: true })
  })
})
