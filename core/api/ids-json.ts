// IDs in the v3 JSON API are uint64 written as decimal strings.
export function idToDecimal(id: number): string {
  return String(id)
}
