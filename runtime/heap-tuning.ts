// Imported by runtime/main.ts before it loads any other module of the control plane (those it imports dynamically).
//
// V8's young generation starts at 1 MiB per semi-space and doubles (up to 16 MiB each) whenever objects keep surviving
// scavenges, which start-up does: every module, schema and route it builds is long-lived. Left alone, start-up alone
// grew it to 2 x 16 MiB, mostly empty but resident for as long as the process sat idle (docs/performance.md, "API",
// memory). V8 reads `semi_space_growth_factor` each time it would grow the young generation, so setting it at run time
// takes effect (unlike --max-semi-space-size, fixed when the heap is set up): 1 while starting, V8's default of 2 once
// the control plane serves, so that request traffic, whose objects die young, may still grow it.
import v8 from 'node:v8'

v8.setFlagsFromString('--semi-space-growth-factor=1')

/** Called once start-up is over: from here on the young generation may grow again (V8's default factor). */
export function endOfStartup(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=2')
}
