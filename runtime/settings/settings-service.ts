// Platform settings: typed reads for other services, the /_admin/settings view, and validated, audited updates.
import type { z } from '@hono/zod-openapi'
import type { Db, Executor } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import { readSettingRows, upsertSetting, deleteSetting } from '../store/settings.js'
import { insertAudit } from '../store/audit.js'
import type { SecretStore } from '../secrets/secret-store.js'
import { PUBLIC_KEY_SECRET } from '../ssh/control-plane-key.js'
import { ApiError } from '../contracts/errors.js'
import type { SettingsPatchInput, SettingsView } from '../contracts/schemas.js'
import type { Actor } from '../auth/auth-service.js'
import type { Logger } from '../logging.js'
import { nowIso } from '../clock.js'
import {
  SECRET_SETTING_KEYS, SETTING_DEFAULTS, BACKUP_STORAGE_KEYS, isSecretKey, secretName, settingsProblems,
  type SettingKey, type SecretSettingKey,
} from './settings-rules.js'

/** Effective non-secret values (defaults applied) and which secrets are set. */
export interface SettingsSnapshot {
  control_plane_domain: string | null
  preview_domain: string | null
  dns01_provider: string | null
  backup_s3_endpoint: string | null
  backup_s3_region: string
  backup_s3_bucket: string | null
  backup_s3_access_key_id: string | null
  backup_retention_days: number
  hetzner_api_base_url: string
  /** Comma-separated host names and CIDR ranges an import archive may come from although they are private or reserved. */
  import_allowed_sources: string | null
  secretsSet: Record<SecretSettingKey, boolean>
  /** Endpoint, bucket, access key id and secret are all set. */
  backupStorageConfigured: boolean
}

type SettingsViewShape = z.infer<typeof SettingsView>

export class SettingsService {
  constructor(private readonly db: Db, private readonly secrets: SecretStore, private readonly logger: Logger) {}

  async snapshot(ex: Executor = this.db): Promise<SettingsSnapshot> {
    return toSnapshot(await readSettingRows(ex))
  }

  /** Decrypted value of a secret setting, or null when unset. */
  async secretValue(key: SecretSettingKey, ex: Executor = this.db): Promise<string | null> {
    const rows = await readSettingRows(ex)
    return rows.has(key) ? this.secrets.get(secretName(key)) : null
  }

  async view(): Promise<SettingsViewShape> {
    const snapshot = await this.snapshot()
    const secretFlag = (key: SecretSettingKey) => ({ set: snapshot.secretsSet[key] })
    return {
      control_plane_domain: snapshot.control_plane_domain,
      preview_domain: snapshot.preview_domain,
      dns01_provider: snapshot.dns01_provider as SettingsViewShape['dns01_provider'],
      dns01_credentials_json: secretFlag('dns01_credentials_json'),
      backup_s3_endpoint: snapshot.backup_s3_endpoint,
      backup_s3_region: snapshot.backup_s3_region,
      backup_s3_bucket: snapshot.backup_s3_bucket,
      backup_s3_access_key_id: snapshot.backup_s3_access_key_id,
      backup_s3_secret_access_key: secretFlag('backup_s3_secret_access_key'),
      backup_retention_days: snapshot.backup_retention_days,
      hetzner_api_token: secretFlag('hetzner_api_token'),
      hetzner_api_base_url: snapshot.hetzner_api_base_url,
      import_allowed_sources: snapshot.import_allowed_sources,
      ssh_public_key: (await this.secrets.get(PUBLIC_KEY_SECRET)) ?? '',
    }
  }

  /** Applies a PATCH: validation on the merged result, rows + audit in one transaction, secret values in the store. */
  async update(patch: SettingsPatchInput, actor: Actor): Promise<SettingsViewShape> {
    const requested = Object.entries(patch).filter(([, value]) => value !== undefined) as [SettingKey, string | number | null][]
    const secretWrites = new Map<SecretSettingKey, string>()
    const secretDeletes: SecretSettingKey[] = []
    const previousSecrets = new Map<SecretSettingKey, string | null>()

    let changedKeys: SettingKey[]
    try {
      changedKeys = await inTransaction(this.db, async (tx) => {
        const rows = await readSettingRows(tx)
        const merged = new Map<SettingKey, string>()
        for (const [key, value] of rows) merged.set(key as SettingKey, value)
        const touched = new Set<SettingKey>()
        for (const [key, value] of requested) {
          touched.add(key)
          if (value === null) merged.delete(key)
          else merged.set(key, String(value))
        }
        const problems = settingsProblems(merged, touched)
        if (Object.keys(problems).length > 0) throw new ApiError('settings_invalid', 'Settings are invalid', { fields: problems })

        const changed: SettingKey[] = []
        const now = nowIso()
        for (const [key, value] of requested) {
          if (isSecretKey(key)) {
            const previous = rows.has(key) ? await this.secrets.get(secretName(key)) : null
            if (previous === value) continue
            previousSecrets.set(key, previous)
            if (value === null) {
              await deleteSetting(tx, key)
              secretDeletes.push(key)
            } else {
              await upsertSetting(tx, key, `secret:${secretName(key)}`, now)
              secretWrites.set(key, String(value))
            }
          } else {
            if ((rows.get(key) ?? null) === (value === null ? null : String(value))) continue
            if (value === null) await deleteSetting(tx, key)
            else await upsertSetting(tx, key, String(value), now)
          }
          changed.push(key)
        }
        await insertAudit(tx, {
          user_id: actor.id, token_id: actor.token_id, action: 'settings_update', resource_type: 'settings', resource_id: 'settings', result: 'succeeded',
          details: { keys: changed },
        })
        // New secret values reach the store before the commit, so a committed reference never points at a missing value.
        for (const [key, value] of secretWrites) await this.secrets.set(secretName(key), value)
        return changed
      })
    } catch (error) {
      await this.restoreSecrets(secretWrites, previousSecrets)
      throw error
    }

    // Deleted only after the commit: a rolled-back clear must still find its value.
    for (const key of secretDeletes) this.secrets.delete(secretName(key))
    this.logger.info({ keys: changedKeys }, 'settings updated')
    return this.view()
  }

  private async restoreSecrets(written: Map<SecretSettingKey, string>, previous: Map<SecretSettingKey, string | null>): Promise<void> {
    for (const key of written.keys()) {
      const old = previous.get(key)
      try {
        if (old === null || old === undefined) this.secrets.delete(secretName(key))
        else await this.secrets.set(secretName(key), old)
      } catch (error) {
        this.logger.error({ err: error, key }, 'could not restore a secret setting after a failed update')
      }
    }
  }
}

function toSnapshot(rows: Map<string, string>): SettingsSnapshot {
  const value = (key: SettingKey): string | null => rows.get(key) ?? SETTING_DEFAULTS[key] ?? null
  const secretsSet = Object.fromEntries(SECRET_SETTING_KEYS.map((key) => [key, rows.has(key)])) as Record<SecretSettingKey, boolean>
  return {
    control_plane_domain: value('control_plane_domain'),
    preview_domain: value('preview_domain'),
    dns01_provider: value('dns01_provider'),
    backup_s3_endpoint: value('backup_s3_endpoint'),
    backup_s3_region: value('backup_s3_region')!,
    backup_s3_bucket: value('backup_s3_bucket'),
    backup_s3_access_key_id: value('backup_s3_access_key_id'),
    backup_retention_days: Number(value('backup_retention_days')),
    hetzner_api_base_url: value('hetzner_api_base_url')!,
    import_allowed_sources: value('import_allowed_sources'),
    secretsSet,
    backupStorageConfigured: BACKUP_STORAGE_KEYS.every((key) => rows.has(key)),
  }
}

