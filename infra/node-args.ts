/**
 * How every pitboss process is started: `node <flags> --import tsx <entry>`, the same in the
 * demo, the tests, the benches, package.json and docker-compose.yml (in its commands: V8 refuses
 * `--initial-old-space-size` in NODE_OPTIONS).
 *
 * `--max-semi-space-size=64` (MiB): the engine allocates a few short-lived objects per event
 * (decoded events, detector states, outputs), and with V8's default 16 MiB semi-spaces its young
 * generation fills every few milliseconds under load; the scavenges were 12% of the engine's
 * busy time in the e2e profile. Larger semi-spaces let most of those objects die before a
 * scavenge (broker-less replay, 100k events, 3 runs alternating: 8.3 / 8.5 / 9.0 CPU s with the
 * default against 7.4 / 7.8 with 64 MiB, plus one outlier at 9.4 on a loaded machine), for about
 * 100 MiB more RSS per process.
 *
 * `--initial-old-space-size=128` (MiB): with 64 MiB semi-spaces and a small old generation (the
 * engine's main thread keeps ~20 MB live), V8 started a full mark-compact every 250-600 ms.
 * `--trace-incremental-marking` showed each started at ~18 MB against a limit of ~88 MB: the
 * headroom (70 MB) just above the young generation's 64 MiB, under which V8 starts marking, so a
 * few scavenges' promotions started the next one (29-39 mark-compacts in the latency bench's 30 s,
 * pauses up to 40 ms on the thread that fetches, produces and answers the processing thread).
 * A configured initial old generation is also the floor V8 keeps for it, so full GCs wait until
 * it has grown past 64 MiB: 1 mark-compact in the same run (bench/README.md, "decision latency").
 * It costs at most ~100 MiB more heap per thread whose live heap is below that size.
 *
 * Example: spawn(process.execPath, nodeArgs('pipelines/main.ts'), { cwd: repositoryRoot })
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--initial-old-space-size=128']

export function nodeArgs(entry: string, extraFlags: readonly string[] = []): string[] {
  return [...NODE_FLAGS, ...extraFlags, '--import', 'tsx', entry]
}
