import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../core/config.js'
import { CASINO_TOPIC_KEYS } from '../../../core/topics.js'
import { writeJsonLines } from '../../../bench/simulator/json-lines.js'
import { loadSanctionedName } from '../../../bench/simulator/sanctions.js'
import { simulate } from '../../../bench/simulator/simulate.js'
import { TYPOLOGIES } from '../../../bench/simulator/world.js'

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-simulator-'))
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }))
const sanctionedName = loadSanctionedName(loadConfig().referenceDataDir, 7)

function writeRun(name: string, seed: number): Buffer {
  const filePath = path.join(directory, name)
  writeJsonLines(filePath, simulate({ seed, players: 300, days: 1, sanctionedName }).events)
  return fs.readFileSync(filePath)
}

describe('simulate', () => {
  it('writes byte-identical event files for the same seed, and different ones for another seed', () => {
    const first = writeRun('a.jsonl', 7)
    const second = writeRun('b.jsonl', 7)
    const other = writeRun('c.jsonl', 8)
    expect(first.length).toBeGreaterThan(10_000)
    expect(first.equals(second)).toBe(true)
    expect(first.equals(other)).toBe(false)
  })

  it('labels every planted typology, with players that have events inside the label window', () => {
    const { events, labels } = simulate({ seed: 11, players: 200, days: 1, sanctionedName })
    expect(new Set(labels.map((label) => label.typology))).toEqual(new Set(Object.values(TYPOLOGIES)))
    for (const label of labels) {
      expect(label.fromMs).toBeLessThanOrEqual(label.toMs)
      for (const playerId of label.playerIds) {
        expect(events.some((event) => event.value.playerId === playerId && event.value.eventTimeMs >= label.fromMs && event.value.eventTimeMs <= label.toMs)).toBe(true)
      }
    }
  })

  it('emits input events in event-time order, with unique event ids, across all input topics', () => {
    const { events } = simulate({ seed: 3, players: 300, days: 2, sanctionedName })
    for (let index = 1; index < events.length; index += 1) expect((events[index] as typeof events[0]).value.eventTimeMs).toBeGreaterThanOrEqual((events[index - 1] as typeof events[0]).value.eventTimeMs)
    expect(new Set(events.map((event) => event.value.eventId)).size).toBe(events.length)
    expect(new Set(events.map((event) => event.topic))).toEqual(new Set(CASINO_TOPIC_KEYS))
  })

  it('puts the sanctioned name on a registering player', () => {
    const { events, labels } = simulate({ seed: 5, players: 50, days: 1, sanctionedName })
    const label = labels.find((candidate) => candidate.typology === TYPOLOGIES.sanctionedName)
    const registration = events.find((event) => event.topic === 'players' && event.value.playerId === label?.playerIds[0])
    expect(registration?.value).toMatchObject({ type: 'REGISTERED', firstName: sanctionedName.firstName, lastName: sanctionedName.lastName })
  })

  it('plants no sanctioned name without one, and rejects a period of no days', () => {
    expect(simulate({ seed: 5, players: 20, days: 1 }).labels.some((label) => label.typology === TYPOLOGIES.sanctionedName)).toBe(false)
    expect(() => simulate({ seed: 5, players: 20, days: 0 })).toThrow(/days/)
  })
})
