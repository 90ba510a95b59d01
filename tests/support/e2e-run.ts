// What the e2e global setup hands to every e2e file, and the control plane environment they all share.
import type { LabStatus } from '../lab/lab.js'

export interface E2eRun {
  instance: string
  /** Data directory of the run's control plane: database, secrets (its SSH key is authorized on the lab nodes). */
  dataDir: string
  /** node1, provisioned and active. */
  nodeId: string
  provisionJobId: string
  provisionSeconds: number
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2eRun: E2eRun
  }
}

export function e2eControlPlaneEnv(lab: LabStatus): Record<string, string> {
  return {
    PRESSLUFT_WP_CORE_URL: 'distro',
    PRESSLUFT_ACME_DIRECTORY_URL: lab.acme.directory_url,
    PRESSLUFT_ACME_CA_CERT_FILE: lab.acme.ca_cert,
  }
}
