// The Hetzner double's servers as lab nodes: a created server boots a lab node of the same name, deleting it stops the node.
import { labStartNode, labStopNode } from '../lab/lab.js'
import type { ServerMachines } from './hetzner-double.js'

export function labMachines(instance: string): ServerMachines {
  return {
    async start(name, publicKeys, onStarting) {
      await labStartNode(name, { instance, authorizedKeys: publicKeys, onStarting: (node) => onStarting(node.ip), log: () => undefined })
    },
    stop: (name) => labStopNode(name, { instance, log: () => undefined }),
  }
}
