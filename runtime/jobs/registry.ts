// The job registry: every module in runtime/jobs/types/ is one job type (runtime/jobs/job-type.ts). Adding a file
// there registers the type; the API's job_type enum, the claim and the runner all read this list.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { JobTypeModule } from './job-type.js'

const TYPES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'types')
// .ts under tsx and vitest, .js in the build (dist/); a build never holds both for one name.
const EXT = path.extname(fileURLToPath(import.meta.url))

async function load(): Promise<ReadonlyMap<string, JobTypeModule>> {
  const files = fs.readdirSync(TYPES_DIR).filter((name) => name.endsWith(EXT) && !name.endsWith(`.d${EXT}`)).sort()
  const modules = await Promise.all(files.map(async (name) => {
    const loaded = (await import(pathToFileURL(path.join(TYPES_DIR, name)).href) as { default?: JobTypeModule }).default
    const expected = name.slice(0, -EXT.length).replace(/-/g, '_')
    if (!loaded || loaded.type !== expected) throw new Error(`runtime/jobs/types/${name} must default-export the job type '${expected}' (defineJobType)`)
    return loaded
  }))
  return new Map(modules.map((m) => [m.type, m]))
}

const registry = await load()

/** Every registered job type name, sorted. */
export const JOB_TYPES = [...registry.keys()] as [string, ...string[]]

export function jobTypes(): JobTypeModule[] {
  return [...registry.values()]
}

export function isJobType(name: string): boolean {
  return registry.has(name)
}

/** The module of a job type; an unknown name is a programming error (the API only accepts registered names). */
export function jobTypeOf(name: string): JobTypeModule {
  const module = registry.get(name)
  if (!module) throw new Error(`unknown job type ${name}: no module runtime/jobs/types/${name.replace(/_/g, '-')}.ts`)
  return module
}

export function playbookPath(type: string): string {
  return `ansible/playbooks/${jobTypeOf(type).playbook}`
}

/** Per-attempt budget: the per-type override of the configuration, the module's own, or PRESSLUFT_JOB_TIMEOUT_SECONDS. */
export function jobTimeoutSeconds(type: string, config: { jobTimeoutSeconds: number; jobTimeoutOverrides: Partial<Record<string, number>> }): number {
  return config.jobTimeoutOverrides[type] ?? jobTypeOf(type).timeoutSeconds ?? config.jobTimeoutSeconds
}

/** The longest per-attempt budget of any job type (stale-run detection waits this long plus a margin). */
export function longestJobTimeoutSeconds(config: { jobTimeoutSeconds: number; jobTimeoutOverrides: Partial<Record<string, number>> }): number {
  return Math.max(...JOB_TYPES.map((type) => jobTimeoutSeconds(type, config)))
}
