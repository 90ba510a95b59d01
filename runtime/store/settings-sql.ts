// SQL fragments about settings shared by the job store modules.
import { BACKUP_STORAGE_KEYS } from '../contracts/enums.js'

/** True when every backup storage setting is set (the keys are constants, so they are inlined, not bound). */
export const BACKUP_STORAGE_CONFIGURED_SQL =
  `((SELECT COUNT(*) FROM settings WHERE key IN (${BACKUP_STORAGE_KEYS.map((k) => `'${k}'`).join(', ')})) = ${BACKUP_STORAGE_KEYS.length})`
