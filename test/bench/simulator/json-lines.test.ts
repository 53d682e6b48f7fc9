import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readEvents, readLabels, toJsonLine, writeJsonLines } from '../../../bench/simulator/json-lines.js'
import { deposit } from '../../../bench/events.js'

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-json-lines-'))
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }))

describe('json lines', () => {
  it('writes bytes fields as hex', () => {
    expect(toJsonLine({ key: Buffer.from('p1'), payload: Buffer.from([0, 255]) })).toBe('{"key":"7031","payload":"00ff"}')
  })

  it('reads back the events and labels it wrote', () => {
    const events = [{ topic: 'deposits' as const, value: deposit({ playerId: 'p1', eventTimeMs: 1_000 }) }]
    const labels = [{ typology: 'structuring' as const, playerIds: ['p1'], fromMs: 0, toMs: 1_000 }]
    writeJsonLines(path.join(directory, 'events.jsonl'), events)
    writeJsonLines(path.join(directory, 'labels.jsonl'), labels)
    expect(readEvents(path.join(directory, 'events.jsonl'))).toEqual(events)
    expect(readLabels(path.join(directory, 'labels.jsonl'))).toEqual(labels)
  })

  it('names the file and line of a line that is not an input event', () => {
    const filePath = path.join(directory, 'bad.jsonl')
    fs.writeFileSync(filePath, '{"topic":"alerts","value":{"playerId":"p1","eventTimeMs":1}}\n')
    expect(() => readEvents(filePath)).toThrow(/bad\.jsonl:1 is not an input event/)
    fs.writeFileSync(filePath, 'not json\n')
    expect(() => readEvents(filePath)).toThrow(/RISK_ERR_INVALID_FIELD/)
    expect(() => readEvents(path.join(directory, 'missing.jsonl'))).toThrow(/no such file/)
  })
})
