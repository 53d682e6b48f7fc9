// ensureBrokerBinary and the start-up failure paths of startBroker, with the real compiler.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import { brokerPaths, brokerStatus, ensureBrokerBinary, startBroker, stopBroker } from '../../../infra/broker/launcher.js'

describe('ensureBrokerBinary', () => {
  let homeDir: string

  beforeAll(async () => {
    homeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pitboss-broker-build-'))
  })

  afterAll(async () => {
    if (homeDir !== undefined) await fs.rm(homeDir, { recursive: true, force: true })
  })

  it('compiles once, and again only when the binary is older than the source', async () => {
    const binary = await ensureBrokerBinary(homeDir)
    expect(binary).toBe(brokerPaths(homeDir).binary)
    const built = await fs.stat(binary)
    expect(built.mode & 0o111).not.toBe(0)

    expect(await ensureBrokerBinary(homeDir)).toBe(binary)
    expect((await fs.stat(binary)).mtimeMs).toBe(built.mtimeMs)

    await fs.utimes(binary, new Date(1_000_000), new Date(1_000_000))
    await ensureBrokerBinary(homeDir)
    expect((await fs.stat(binary)).mtimeMs).toBeGreaterThan(1_000_000)
    expect((await fs.readdir(path.dirname(binary))).filter((name) => name.includes('.tmp-'))).toEqual([])
  })

  it('says what is missing and how to install it when there is no compiler', async () => {
    const otherHome = path.join(homeDir, 'no-compiler')
    const error = await ensureBrokerBinary(otherHome, { compiler: 'pitboss-no-such-cc' }).catch((caught: unknown) => caught)
    expect(isRiskError(error, 'RISK_ERR_SUBSTRATE')).toBe(true)
    expect(String(error)).toContain("C compiler 'pitboss-no-such-cc' not found")
    expect(String(error)).toContain('apt-get install -y librdkafka-dev build-essential pkg-config')
  })

  it('says what is missing and how to install it when the librdkafka headers are absent', async () => {
    // A stand-in compiler that fails the way gcc does without librdkafka-dev.
    const compiler = path.join(homeDir, 'cc-without-librdkafka')
    await fs.writeFile(compiler, '#!/bin/sh\necho "mock-broker.c:42:10: fatal error: librdkafka/rdkafka.h: No such file or directory" >&2\nexit 1\n', { mode: 0o755 })
    const error = await ensureBrokerBinary(path.join(homeDir, 'no-headers'), { compiler }).catch((caught: unknown) => caught)
    expect(isRiskError(error, 'RISK_ERR_SUBSTRATE')).toBe(true)
    expect(String(error)).toContain('librdkafka/rdkafka_mock.h or librdkafka is missing; install it with: apt-get install -y librdkafka-dev build-essential pkg-config')
  })

  it('rejects invalid topics and broker counts before starting anything', async () => {
    await expect(startBroker({ homeDir, topics: [{ name: 'has space', partitions: 1 }] })).rejects.toMatchObject({ code: 'RISK_ERR_CONFIG_INVALID' })
    await expect(startBroker({ homeDir, topics: [{ name: 'ok.name', partitions: 0 }] })).rejects.toMatchObject({ code: 'RISK_ERR_CONFIG_INVALID' })
    await expect(startBroker({ homeDir, brokers: 0, topics: [] })).rejects.toMatchObject({ code: 'RISK_ERR_CONFIG_INVALID' })
    expect(await brokerStatus(homeDir)).toBeNull()
  })

  it('agrees on one broker when several callers start it at once', async () => {
    const parallelHome = path.join(homeDir, 'parallel')
    try {
      const started = await Promise.all([1, 2, 3].map((index) => startBroker({ homeDir: parallelHome, topics: [{ name: `parallel.${index}`, partitions: 1 }] })))
      expect(new Set(started.map((info) => info.pid)).size).toBe(1)
    } finally {
      await stopBroker(parallelHome)
    }
  })

  it('replaces a run file whose process is gone, and stopping an unknown home is a no-op', async () => {
    const paths = brokerPaths(homeDir)
    await fs.mkdir(path.dirname(paths.runFile), { recursive: true })
    // A pid that cannot exist (above Linux's pid_max) stands for a broker that died.
    await fs.writeFile(paths.runFile, JSON.stringify({ bootstrap: '127.0.0.1:1', brokers: ['127.0.0.1:1'], controlPort: 1, pid: 2 ** 22 + 1, brokerCount: 1 }))
    expect(await brokerStatus(homeDir)).toBeNull()
    const started = await startBroker({ homeDir, topics: [] })
    try {
      expect(started.pid).not.toBe(2 ** 22 + 1)
      expect(await brokerStatus(homeDir)).toEqual(started)
    } finally {
      await stopBroker(homeDir)
    }
    await stopBroker(path.join(homeDir, 'never-used'))
  })
})
