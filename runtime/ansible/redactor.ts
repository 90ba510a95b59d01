// Replaces every secret value of an attempt (and its lines, JSON-escaped form and JSON members) in Ansible output.
export type Redact = (text: string) => string

const CENSOR = '[REDACTED]'
const MIN_LENGTH = 4

function variants(secret: string): string[] {
  const out = [secret, JSON.stringify(secret).slice(1, -1)]
  for (const line of secret.split(/\r?\n/)) if (line.trim().length >= 8) out.push(line.trim())
  try {
    const parsed: unknown = JSON.parse(secret)
    if (parsed && typeof parsed === 'object') {
      for (const value of Object.values(parsed as Record<string, unknown>)) if (typeof value === 'string') out.push(...variants(value))
    }
  } catch { /* not JSON */ }
  return out
}

export function createRedactor(secrets: string[]): Redact {
  const needles = [...new Set(secrets.flatMap(variants))].filter((s) => s.length >= MIN_LENGTH).sort((a, b) => b.length - a.length)
  if (!needles.length) return (text) => text
  return (text) => {
    let out = text
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(CENSOR)
    return out
  }
}
