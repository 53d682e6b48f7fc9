import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.js'

describe('config', () => {
  it('has working defaults and is frozen all the way down', () => {
    const config = loadConfig({})
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092'])
    expect(Object.isFrozen(config.kafka)).toBe(true)
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true)
    expect(config.state.cachePlayers).toBe(20_000)
    expect(loadConfig({ PITBOSS_STATE_CACHE_PLAYERS: '0' }).state.cachePlayers).toBe(0)
    expect(config.kafka.outputProducer).toBe('auto')
    expect(loadConfig({ PITBOSS_KAFKA_OUTPUT_PRODUCER: 'KafkaJS' }).kafka.outputProducer).toBe('kafkajs')
  })

  it('refuses malformed values, naming the variable', () => {
    expect(() => loadConfig({ PITBOSS_KAFKA_SESSION_TIMEOUT_MS: '10s' })).toThrow(/PITBOSS_KAFKA_SESSION_TIMEOUT_MS must be an integer/)
    expect(() => loadConfig({ PITBOSS_KAFKA_BROKERS: 'localhost' })).toThrow(/host:port/)
    expect(() => loadConfig({ PITBOSS_REGISTRY_URL: 'not a url' })).toThrow(/PITBOSS_REGISTRY_URL must be a URL/)
    expect(() => loadConfig({ PITBOSS_INSTANCE_ID: '../etc' })).toThrow(/PITBOSS_INSTANCE_ID/)
    expect(() => loadConfig({ PITBOSS_STATE_CACHE_PLAYERS: '-1' })).toThrow(/PITBOSS_STATE_CACHE_PLAYERS/)
    expect(() => loadConfig({ PITBOSS_KAFKA_OUTPUT_PRODUCER: 'rdkafka' })).toThrow(/PITBOSS_KAFKA_OUTPUT_PRODUCER must be one of auto, librdkafka, kafkajs/)
  })
})
