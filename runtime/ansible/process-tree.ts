// Stopping a playbook: SIGTERM to its process group (and any descendant that left it), a grace period, then SIGKILL.
import fs from 'node:fs'

/** True when pid is a running ansible-playbook (recovery must never kill a recycled pid). */
export function isAnsiblePlaybook(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.endsWith('ansible-playbook'))
  } catch {
    return false
  }
}

function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command: state ppid pgrp …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[1])
  } catch {
    return null
  }
}

function groupOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
  } catch {
    return null
  }
}

/** Every process whose parent chain leads to root, or that is in root's process group. */
export function processTree(root: number): number[] {
  let pids: number[]
  try {
    pids = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number)
  } catch {
    return []
  }
  const children = new Map<number, number[]>()
  const inGroup: number[] = []
  for (const pid of pids) {
    const parent = parentOf(pid)
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), pid])
    if (groupOf(pid) === root) inGroup.push(pid)
  }
  const out = new Set<number>(inGroup)
  const stack = [root]
  while (stack.length) {
    const pid = stack.pop()!
    for (const child of children.get(pid) ?? []) if (!out.has(child)) { out.add(child); stack.push(child) }
  }
  return [...out]
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig) } catch { /* already gone */ }
}

function alive(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
    } catch {
      return false
    }
  })
}

/** SIGTERM to the group and its descendants, up to graceMs for them to exit, then SIGKILL to whatever is left. */
export async function terminateTree(leader: number, graceMs: number): Promise<void> {
  let tree = processTree(leader)
  signal(-leader, 'SIGTERM')
  for (const pid of tree) signal(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    tree = alive([...new Set([...tree, ...processTree(leader)])])
    if (!tree.length) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  killTree(leader, tree)
}

export function killTree(leader: number, known: number[] = []): void {
  const tree = [...new Set([...known, ...processTree(leader)])]
  signal(-leader, 'SIGKILL')
  for (const pid of tree) signal(pid, 'SIGKILL')
}
