/**
 * How every pitboss process is started: `node <flags> --import tsx <entry>`, the same in the
 * demo, the tests, the benches, package.json and docker-compose.yml.
 *
 * `--max-semi-space-size=64` (MiB): the engine allocates a few short-lived objects per event
 * (decoded events, detector states, outputs), and with V8's default 16 MiB semi-spaces its young
 * generation fills every few milliseconds under load; the scavenges were 12% of the engine's
 * busy time in the e2e profile. Larger semi-spaces let most of those objects die before a
 * scavenge (broker-less replay, 100k events, 3 runs alternating: 8.3 / 8.5 / 9.0 CPU s with the
 * default against 7.4 / 7.8 with 64 MiB, plus one outlier at 9.4 on a loaded machine), for about
 * 100 MiB more RSS per process.
 *
 * Example: spawn(process.execPath, nodeArgs('pipelines/main.ts'), { cwd: repositoryRoot })
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64']

export function nodeArgs(entry: string, extraFlags: readonly string[] = []): string[] {
  return [...NODE_FLAGS, ...extraFlags, '--import', 'tsx', entry]
}
