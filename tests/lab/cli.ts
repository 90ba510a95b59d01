// `npm run lab -- <command>`: up, status, authorize, exec, inventory and down for the instance named by PRESSLUFT_LAB.
import { labAuthorize, labDown, labExec, labIsUp, labStatus, labUp, renderInventory } from './lab.js'
import { instanceName } from './paths.js'

const usage = `usage: npm run lab -- <command>   (instance: PRESSLUFT_LAB, default "default")
  up [--nodes N]              start the lab with at least N nodes (default 1); idempotent
  status [--json]             addresses, keys and service URLs of the lab
  authorize <public-key-file> add a public key to root's authorized_keys on every node
  exec <node> -- <cmd> [args] run a command inside a node (node1, node2, …) as root; one quoted
                              argument with spaces runs through sh -c
  inventory                   print an Ansible INI inventory of the nodes
  down                        stop everything this instance started; idempotent`

function printStatus(json: boolean): void {
  const status = labStatus()
  if (json) {
    process.stdout.write(JSON.stringify(status, null, 2) + '\n')
    return
  }
  const lines = [
    `lab "${instanceName()}" ${labIsUp() ? 'up' : 'DEGRADED (a node is not running; run up again)'}`,
    ...status.nodes.map((n) => `  ${n.name.padEnd(8)} ${n.ip.padEnd(15)} ssh -i ${n.ssh_key} ${n.ssh_user}@${n.ip}`),
    `  dns        ${status.dns} (probe: ${status.dns_probe_name})`,
    `  apt proxy  ${status.apt_proxy}`,
    `  acme       ${status.acme.directory_url} (CA: ${status.acme.ca_cert})`,
    `  s3         ${status.s3.endpoint} bucket ${status.s3.bucket} key ${status.s3.access_key_id}`,
  ]
  process.stdout.write(lines.join('\n') + '\n')
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'up': {
      const flag = rest.findIndex((arg) => arg === '--nodes' || arg.startsWith('--nodes='))
      const value = flag < 0 ? '1' : rest[flag].includes('=') ? rest[flag].split('=')[1] : rest[flag + 1]
      const nodes = Number(value)
      const started = Date.now()
      await labUp({ nodes })
      process.stderr.write(`[lab] up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
      printStatus(false)
      return 0
    }
    case 'status':
      printStatus(rest.includes('--json'))
      return 0
    case 'authorize':
      if (!rest[0]) break
      await labAuthorize(rest[0])
      return 0
    case 'exec': {
      const separator = rest.indexOf('--')
      const node = rest[0]
      const cmd = separator >= 0 ? rest.slice(separator + 1) : rest.slice(1)
      if (!node || cmd.length === 0) break
      // One quoted argument with spaces is a shell command line: `exec node1 -- 'apt-get update && hello'`.
      const argv = cmd.length === 1 && /\s/.test(cmd[0]) ? ['sh', '-c', cmd[0]] : cmd
      const result = await labExec(node, argv, { stdio: 'inherit', reject: false })
      return result.exitCode ?? 1
    }
    case 'inventory':
      process.stdout.write(renderInventory())
      return 0
    case 'down':
      await labDown()
      return 0
  }
  process.stderr.write(usage + '\n')
  return 2
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (error: Error) => {
    process.stderr.write(`lab: ${error.message}\n`)
    process.exitCode = 1
  },
)
