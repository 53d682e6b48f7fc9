import { describe, expect, it } from 'vitest'
import * as wire from '../../bench/events.js'
import { ipAsnJump, ipBlockOf, type IpAsnJumpState } from '../../detectors/ip-asn-jump.js'
import type { RuleSetDocument } from '../../detectors/rule-set.js'
import type { Alert } from '../../schemas/domain.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, at, lastObservation, login, paramsFor, runScenario, withdrawal } from './scenario.js'

const document = (params: Record<string, unknown>): RuleSetDocument => ({
  version: 'test-1',
  detectors: { ip_asn_jump: { enabled: true, severity: 'low', action: 'alert_only', params } },
})
const BASE = { maxDistinctAsns: 3, maxDistinctIpBlocks: 4, windowMs: DAY_MS, graceMs: HOUR_MS }
const paramsOf = (params: Record<string, unknown>) => paramsFor('ip_asn_jump', 'MT', 'VERIFIED', document(params), [ipAsnJump])
const PARAMS = paramsOf(BASE)

/** A login from AS(64500 + asn) and the /24 block 10.0.<block>.0. */
const net = (eventId: string, asn: number, block: number) => login({ eventId, asn: 64500 + asn, ip: `10.0.${block}.${7 + asn}` })

describe('ip_asn_jump: IP blocks', () => {
  it.each([
    ['198.51.100.7', 24, 48, '198.51.100.0/24'],
    ['198.51.100.7', 16, 48, '198.51.0.0/16'],
    ['255.255.255.255', 32, 48, '255.255.255.255/32'],
    ['2001:db8:12:34::1', 24, 48, '2001:db8:12::/48'],
    ['2001:0DB8:0012:0034:0000:0000:0000:0001', 24, 48, '2001:db8:12::/48'],
    ['2001:db8:1234:5678::1', 24, 56, '2001:db8:1234:5600::/56'],
    ['fe80::1%eth0', 24, 64, 'fe80::/64'],
    ['::ffff:198.51.100.7', 24, 48, '198.51.100.0/24'],
    ['::1', 24, 128, '::1/128'],
  ])('%s with /%i and /%i -> %s', (ip, ipv4PrefixBits, ipv6PrefixBits, block) => {
    expect(ipBlockOf(ip, ipv4PrefixBits, ipv6PrefixBits)).toBe(block)
  })

  it.each(['', 'localhost', '256.1.1.1', '1.2.3', '1:2:3:4:5:6:7:8:9', '1::2::3', 'gggg::1'])('%j is not an IP', (ip) => {
    expect(ipBlockOf(ip, 24, 48)).toBeNull()
  })
})

describe('ip_asn_jump: thresholds (more than 3 ASNs or 4 blocks in 24 h)', () => {
  it.each([
    { asns: 2, hit: false },
    { asns: 3, hit: false },
    { asns: 4, hit: true },
  ])('$asns distinct ASNs (one block each up to 4) -> hit $hit', ({ asns, hit }) => {
    const logins = Array.from({ length: asns }, (_, index) => at(index * MINUTE_MS, net(`l${index}`, index, index)))
    const steps = runScenario(ipAsnJump, PARAMS, [...logins, at(HOUR_MS, withdrawal(50_00))])
    expect(lastObservation(steps)).toMatchObject({ hit, value: asns, threshold: 3 })
    expect(steps[asns - 1]?.observation?.hit ?? false).toBe(hit)
  })

  it.each([
    { blocks: 3, hit: false },
    { blocks: 4, hit: false },
    { blocks: 5, hit: true },
  ])('$blocks distinct /24 blocks in one ASN -> hit $hit', ({ blocks, hit }) => {
    const logins = Array.from({ length: blocks }, (_, index) => at(index * MINUTE_MS, net(`l${index}`, 0, index)))
    const observation = lastObservation(runScenario(ipAsnJump, PARAMS, [...logins, at(HOUR_MS, withdrawal(50_00))]))
    expect(observation).toMatchObject({ hit, value: hit ? blocks : 1, threshold: hit ? 4 : 3 })
    expect(observation?.detail).toBe(`1 distinct ASNs and ${blocks} distinct IP blocks in 24 h, limits 3 ASNs, 4 blocks`)
  })

  it('alerts only when a network new to the window takes a count over the limit', () => {
    const steps = runScenario(ipAsnJump, PARAMS, [
      at(0, net('a', 0, 0)), at(1, net('b', 1, 1)), at(2, net('c', 2, 2)), at(3, net('d', 3, 3)), at(4, net('a2', 0, 0)), at(5, net('e', 4, 4)),
    ])
    expect(steps.map((step) => step.observation?.value ?? null)).toEqual([null, null, null, 4, null, 5])
    expect(steps[3]?.observation?.evidenceEventIds).toEqual(['a', 'b', 'c', 'd'])
  })

  it('counts (t - 24 h, t]: a network last seen exactly 24 h before the withdrawal is out', () => {
    const events = [at(0, net('a', 0, 0)), at(1, net('b', 1, 1)), at(2, net('c', 2, 2)), at(3, net('d', 3, 3))]
    expect(lastObservation(runScenario(ipAsnJump, PARAMS, [...events, at(DAY_MS, withdrawal(50_00))]))).toMatchObject({ hit: false, value: 3 })
    expect(lastObservation(runScenario(ipAsnJump, PARAMS, [...events, at(DAY_MS - 1, withdrawal(50_00))]))).toMatchObject({ hit: true, value: 4 })
  })

  it('a null limit switches that count off', () => {
    const events = [0, 1, 2, 3, 4].map((index) => at(index, net(`l${index}`, index, index)))
    const blocksOnly = paramsOf({ ...BASE, maxDistinctAsns: null })
    expect(lastObservation(runScenario(ipAsnJump, blocksOnly, [...events, at(10, withdrawal(50_00))]))).toMatchObject({ hit: true, value: 5, threshold: 4 })
    const neither = paramsOf({ ...BASE, maxDistinctAsns: null, maxDistinctIpBlocks: null })
    expect(lastObservation(runScenario(ipAsnJump, neither, [...events, at(10, withdrawal(50_00))]))?.hit).toBe(false)
  })
})

describe('ip_asn_jump: out of order and late (grace 1 h)', () => {
  const firstThree = [at(10 * HOUR_MS, net('a', 0, 0)), at(10 * HOUR_MS + 40 * MINUTE_MS, net('b', 1, 1)), at(10 * HOUR_MS + 50 * MINUTE_MS, net('c', 2, 2))]

  it('judges an out-of-order login within grace also in the windows holding later networks', () => {
    const steps = runScenario(ipAsnJump, PARAMS, [...firstThree, at(10 * HOUR_MS + 20 * MINUTE_MS, net('d', 3, 3))])
    expect(steps[3]).toMatchObject({ late: false, observation: { hit: true, value: 4, windowEndMs: 10 * HOUR_MS + 50 * MINUTE_MS } })
  })

  it('flags a login behind stream time minus grace as late, raises nothing, and the withdrawal counts it', () => {
    const steps = runScenario(ipAsnJump, PARAMS, [...firstThree, at(12 * HOUR_MS, net('a2', 0, 0)), at(10 * HOUR_MS + 20 * MINUTE_MS, net('d', 3, 3)), at(12 * HOUR_MS + 1, withdrawal(50_00))])
    expect(steps[4]).toMatchObject({ late: true, observation: null })
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 4 })
  })
})

describe('ip_asn_jump: state stays bounded', () => {
  it('keeps one entry per network, at most maxTrackedKeys, and forgets networks after window + grace', () => {
    const sameNetwork = Array.from({ length: 50 }, (_, index) => at(index * MINUTE_MS, net(`same${index}`, 0, 0)))
    const same = runScenario(ipAsnJump, PARAMS, sameNetwork)
    expect(same[49]?.state).toMatchObject({ asns: [{ key: 'AS64500', firstEventId: 'same0', lastEventId: 'same49' }], ipBlocks: [{ key: '10.0.0.0/24' }] })
    const manyNetworks = Array.from({ length: 100 }, (_, index) => at(index * MINUTE_MS, login({ eventId: `n${index}`, asn: 1000 + index, ip: `10.${index}.0.1` })))
    const many = runScenario(ipAsnJump, PARAMS, manyNetworks)
    const state = many[99]?.state as IpAsnJumpState
    expect([state.asns.length, state.ipBlocks.length]).toEqual([64, 64])
    const later = runScenario(ipAsnJump, PARAMS, [at(3 * DAY_MS, net('z', 9, 9))], { state })
    expect((later[0]?.state as IpAsnJumpState).asns.map((sighting) => sighting.key)).toEqual(['AS64509'])
  })
})

describe('ip_asn_jump: shipped rule set overrides', () => {
  const fourAsns = [0, 1, 2, 3].map((index) => at(index * MINUTE_MS, net(`l${index}`, index, index))).concat(at(HOUR_MS, withdrawal(50_00)))
  const fiveAsns = [0, 1, 2, 3, 4].map((index) => at(index * MINUTE_MS, net(`l${index}`, index, index))).concat(at(HOUR_MS, withdrawal(50_00)))

  it('NEW lowers the ASN limit to 3: four ASNs hit a new player, not a verified one', () => {
    expect(lastObservation(runScenario(ipAsnJump, paramsFor('ip_asn_jump', 'MT', 'VERIFIED'), fourAsns))?.hit).toBe(false)
    expect(lastObservation(runScenario(ipAsnJump, paramsFor('ip_asn_jump', 'MT', 'NEW'), fourAsns))?.hit).toBe(true)
  })

  it('VIP raises it to 6: five ASNs hit a verified player, not a VIP', () => {
    expect(lastObservation(runScenario(ipAsnJump, paramsFor('ip_asn_jump', 'MT', 'VERIFIED'), fiveAsns))?.hit).toBe(true)
    expect(lastObservation(runScenario(ipAsnJump, paramsFor('ip_asn_jump', 'MT', 'VIP'), fiveAsns))?.hit).toBe(false)
  })

  it('a jurisdiction override (test rule set) changes the outcome the same way', () => {
    const rules: RuleSetDocument = { ...document(BASE), overrides: [{ match: { jurisdiction: 'CW' }, detectors: { ip_asn_jump: { params: { maxDistinctAsns: 4 } } } }] }
    const fourThenWithdrawal = fourAsns
    expect(lastObservation(runScenario(ipAsnJump, paramsFor('ip_asn_jump', 'MT', 'VERIFIED', rules, [ipAsnJump]), fourThenWithdrawal))?.hit).toBe(true)
    expect(lastObservation(runScenario(ipAsnJump, paramsFor('ip_asn_jump', 'CW', 'VERIFIED', rules, [ipAsnJump]), fourThenWithdrawal))?.hit).toBe(false)
  })
})

async function alertsOf(pipeline: TestPipeline): Promise<Alert[]> {
  return Promise.all(pipeline.driver.output('alerts').map(async (message) => {
    const decoded = await pipeline.codec.decode('alerts', message.value)
    if (!decoded.ok) throw new Error(decoded.message)
    return decoded.value as Alert
  }))
}

describe('ip_asn_jump: end to end through the pipeline (shipped rule set: more than 4 ASNs, alert only)', () => {
  it('alerts on the fifth ASN of the day; the withdrawal records the hit but is approved (alert_only)', async () => {
    const pipeline = await testPipeline()
    const player = 'p-hop'
    pipeline.send('players', wire.player({ playerId: player, eventTimeMs: 0, jurisdiction: 'MT', country: 'MT', tier: 'VERIFIED' }))
    pipeline.send('deposits', wire.deposit({ playerId: player, eventTimeMs: MINUTE_MS }))
    for (let index = 0; index < 5; index += 1) {
      pipeline.send('devices', wire.device({ playerId: player, eventTimeMs: (index + 1) * HOUR_MS, asn: 64500 + index, ip: `203.0.${index}.9` }))
    }
    pipeline.send('withdrawals', wire.withdrawal({ playerId: player, withdrawalId: 'w-hop', eventTimeMs: 7 * HOUR_MS }))
    await pipeline.driver.run()

    const alerts = (await alertsOf(pipeline)).filter((alert) => alert.detectorId === 'ip_asn_jump')
    expect(alerts.map((alert) => [alert.eventTimeMs, alert.value, alert.threshold, alert.severity, alert.action])).toEqual([
      [5 * HOUR_MS, 5, 4, 'LOW', 'alert_only'], [7 * HOUR_MS, 5, 4, 'LOW', 'alert_only'],
    ])
    const [decision] = await pipeline.decisions()
    expect(decision?.executions.find((execution) => execution.detectorId === 'ip_asn_jump')).toMatchObject({ status: 'HIT', value: 5, threshold: 4 })
    expect(decision?.reasons.map((reason) => reason.code)).toContain('IP_ASN_JUMP')
    expect(decision?.outcome).toBe('APPROVE')
  })
})
