/** `2025-09-06T13:30:10Z`: UTC, whole seconds. */
export function toTimestamp(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** The calendar day (`YYYY-MM-DD`) that `at` falls on in `timeZone`. */
export function dayIn(timeZone: string, at: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}
