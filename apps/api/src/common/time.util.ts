/** Current time as ISO-8601 UTC with milliseconds (the format of every stored timestamp). */
export function nowIso(): string {
  return new Date().toISOString();
}
