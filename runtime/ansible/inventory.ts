// Renders inventory.ini for one attempt: the single host `node` of group `target` from the nodes row (ansible/README.md).
import { hasTemplateSyntax } from '../contracts/validation.js'
import type { NodeContext } from '../store/job-context.js'

export class InventoryError extends Error {}

export function renderInventory(node: Pick<NodeContext, 'hostname' | 'ssh_port' | 'ssh_user'>, privateKeyFile: string, extraHostVars: Record<string, string> = {}): string {
  const hostVars: [string, string][] = [
    ['ansible_host', node.hostname],
    ['ansible_port', String(node.ssh_port)],
    ['ansible_user', node.ssh_user],
    ['ansible_ssh_private_key_file', privateKeyFile],
    ['ansible_python_interpreter', '/usr/bin/python3'],
  ]
  // Non-root users need passwordless sudo on the node.
  if (node.ssh_user !== 'root') hostVars.push(['ansible_become', 'true'])
  for (const [key, value] of Object.entries(extraHostVars)) hostVars.push([key, value])
  for (const [key, value] of hostVars) {
    if (!value || /\s/.test(value) || hasTemplateSyntax(value)) throw new InventoryError(`inventory value ${key} is empty or contains whitespace or template syntax`)
  }
  return `[target]\nnode ${hostVars.map(([k, v]) => `${k}=${v}`).join(' ')}\n`
}
