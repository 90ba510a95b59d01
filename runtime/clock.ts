// Time in the one form the database stores: ISO-8601 UTC with milliseconds (string order = time order).
export function nowIso(): string {
  return new Date().toISOString()
}

export function isoPlus(iso: string, milliseconds: number): string {
  return new Date(Date.parse(iso) + milliseconds).toISOString()
}
