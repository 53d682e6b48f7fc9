/**
 * What to hand `new Worker` to run one of the engine's thread modules. Under tsx (development,
 * tests, the benches: `node --import tsx`) a worker needs tsx's loader registered in it first, so
 * the source is a short script that registers it and imports the module; compiled JavaScript
 * runs the module's own file.
 *
 *   const entry = threadEntry('../processing-thread', import.meta.url)
 *   new Worker(entry.source, { eval: entry.eval, workerData })
 */
export function threadEntry(relativePath: string, fromUrl: string): { readonly source: string | URL; readonly eval: boolean } {
  const typescript = fromUrl.endsWith('.ts')
  const entry = new URL(relativePath + (typescript ? '.ts' : '.js'), fromUrl)
  if (!typescript) return { source: entry, eval: false }
  const tsx = import.meta.resolve('tsx/esm/api')
  return { source: `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}) })`, eval: true }
}
