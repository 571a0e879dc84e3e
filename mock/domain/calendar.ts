const DAY_MS = 86_400_000;

/** `YYYY-MM` of an ISO date or instant. */
export const monthOf = (date: string): string => date.slice(0, 7);

/** The month `by` months after (or before) a `YYYY-MM` month. */
export function shiftMonth(month: string, by: number): string {
  return new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1 + by, 1)).toISOString().slice(0, 7);
}

/** The last day of a `YYYY-MM` month. */
export const lastDayOf = (month: string): string => new Date(Date.parse(`${shiftMonth(month, 1)}-01T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);

/** Whole days, for periods given as dates. */
export const daysBetween = (start: string, end: string): number => (Date.parse(end) - Date.parse(start)) / DAY_MS;
