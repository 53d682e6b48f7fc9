// The real process, started by the launcher and driven by the client the pipelines use.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import { SchemaRegistryStore } from '../../../infra/registry/registry.js'
import { registryPaths, registryStatus, startRegistry, stopRegistry } from '../../../infra/registry/launcher.js'

const subject = 'casino.deposits.v1-value'
const depositV1 = {
  type: 'record' as const, name: 'Deposit', namespace: 'casino',
  fields: [{ name: 'playerId', type: 'string' }, { name: 'amountMinor', type: 'long' }, { name: 'eventTimeMs', type: 'long' }],
}
const depositV2 = { ...depositV1, fields: [...depositV1.fields, { name: 'currency', type: 'string', default: 'EUR' }] }
const depositIncompatible = { ...depositV1, fields: [...depositV1.fields, { name: 'methodId', type: 'string' }] }
const avro = (schema: object): { type: SchemaType.AVRO; schema: string } => ({ type: SchemaType.AVRO, schema: JSON.stringify(schema) })

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

let homeDir: string

beforeAll(() => {
  homeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-registry-launcher-'))
})

afterAll(async () => {
  await stopRegistry(homeDir)
  fs.rmSync(homeDir, { recursive: true, force: true })
})

describe('registry process', () => {
  it('serves the Confluent client, survives a restart and refuses an incompatible schema', async () => {
    expect(await registryStatus(homeDir)).toMatchObject({ running: false })
    const first = await startRegistry({ homeDir })
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(await startRegistry({ homeDir })).toEqual(first) // idempotent
    expect(await registryStatus(homeDir)).toEqual({ running: true, ...first })
    expect(JSON.parse(fs.readFileSync(registryPaths(homeDir).stateFile, 'utf8'))).toEqual(first)

    const client = new SchemaRegistry({ host: first.url })
    const { id } = await client.register(avro(depositV1), { subject })
    expect(await client.getLatestSchemaId(subject)).toBe(id)
    const deposit = { playerId: 'p-17', amountMinor: 250_00, eventTimeMs: 1_700_000_000_000 }
    const encoded = await client.encode(id, deposit)
    expect(encoded.readUInt8(0)).toBe(0) // Confluent wire format: magic byte, then the schema id
    expect(encoded.readInt32BE(1)).toBe(id)
    expect({ ...(await client.decode(encoded)) }).toEqual(deposit)

    await stopRegistry(homeDir)
    // The exited process may stay a zombie until this process's event loop reaps it.
    for (let waitedMs = 0; isAlive(first.pid) && waitedMs < 5000; waitedMs += 50) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(isAlive(first.pid)).toBe(false)
    expect(await registryStatus(homeDir)).toMatchObject({ running: false })
    await stopRegistry(homeDir) // idempotent

    const second = await startRegistry({ homeDir })
    expect(second.pid).not.toBe(first.pid)
    const freshClient = new SchemaRegistry({ host: second.url }) // no cached schemas
    expect(await freshClient.getLatestSchemaId(subject)).toBe(id)
    expect({ ...(await freshClient.decode(encoded)) }).toEqual(deposit)

    const evolved = await freshClient.register(avro(depositV2), { subject })
    expect(evolved.id).not.toBe(id)
    expect(await freshClient.getLatestSchemaId(subject)).toBe(evolved.id)
    // A v2 reader reads v1 data, filling the default.
    expect({ ...(await freshClient.decode(encoded, { [SchemaType.AVRO]: { readerSchema: depositV2 } })) }).toEqual({ ...deposit, currency: 'EUR' })

    const refusal = await freshClient.register(avro(depositIncompatible), { subject }).then(() => undefined, (error: unknown) => error)
    expect(refusal).toMatchObject({ name: 'ResponseError', status: 409 })
    expect((refusal as Error).message).toMatch(/incompatible with an earlier schema for subject "casino.deposits.v1-value"/)
    expect(await freshClient.getLatestSchemaId(subject)).toBe(evolved.id)
  })

  it('starts again after the process was killed, taking over its stale lock and state file', async () => {
    const crashHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-registry-crash-'))
    try {
      const first = await startRegistry({ homeDir: crashHome })
      const client = new SchemaRegistry({ host: first.url })
      const { id } = await client.register(avro(depositV1), { subject })
      process.kill(first.pid, 'SIGKILL') // no graceful close: the lock file and state file stay behind
      while (isAlive(first.pid)) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(fs.existsSync(registryPaths(crashHome).stateFile)).toBe(true)
      expect(await registryStatus(crashHome)).toMatchObject({ running: false, reason: expect.stringContaining('not running') })

      const second = await startRegistry({ homeDir: crashHome })
      expect(second.pid).not.toBe(first.pid)
      expect(await new SchemaRegistry({ host: second.url }).getLatestSchemaId(subject)).toBe(id)
    } finally {
      await stopRegistry(crashHome)
      fs.rmSync(crashHome, { recursive: true, force: true })
    }
  })

  it('points at its log when the process cannot start', async () => {
    const blockedHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-registry-blocked-'))
    // This test process holds the data dir, so the registry process must give up.
    const holder = SchemaRegistryStore.open({ dataDir: registryPaths(blockedHome).dataDir })
    try {
      const failure = await startRegistry({ homeDir: blockedHome }).then(() => undefined, (error: unknown) => error)
      expect(isRiskError(failure, 'RISK_ERR_SUBSTRATE')).toBe(true)
      expect((failure as Error).message).toContain(registryPaths(blockedHome).logFile)
      expect((failure as Error).message).toContain('in use by process')
      expect(await registryStatus(blockedHome)).toMatchObject({ running: false })
    } finally {
      holder.close()
      await stopRegistry(blockedHome)
      fs.rmSync(blockedHome, { recursive: true, force: true })
    }
  })
})
