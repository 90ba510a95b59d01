// Run directories: ssh control sockets must fit a Unix socket path whatever the data directory's length.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, expect } from 'vitest'
import { createRunDir, removeRunDir } from '../../runtime/ansible/run-dir.js'

describe('run directories', () => {
  it('keeps the ssh control socket path under 107 bytes for a long data directory, and removes the socket dir with the run dir', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `pressluft-${'long-data-directory-'.repeat(5)}`))
    try {
      const run = createRunDir(dataDir, '6b7099b1-dd52-4b6d-bd63-7e3e6520ea7f', 1)
      // ssh appends "/<ansible's 10-char hash>.<16 random chars>" to the control path directory.
      expect(Buffer.byteLength(`${run.controlPathDir}/e94c941fbf.Qf0YZYea3iOKZjYV`)).toBeLessThan(107)
      expect(fs.statSync(run.controlPathDir).mode & 0o777).toBe(0o700)
      removeRunDir(run.dir)
      expect(fs.existsSync(run.controlPathDir)).toBe(false)
      expect(fs.existsSync(run.dir)).toBe(false)
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
