import { z } from 'zod';
import { DaySchema } from '../storage/attendance-store.ts';

const MAX_RANGE_DAYS = 366;
const DAY_MS = 24 * 60 * 60 * 1000;

/** `YYYY-MM-DD` that names a real day (not 2025-02-30). */
export const CalendarDaySchema = DaySchema.refine((day) => {
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(day);
}, 'not a calendar day');

/** `date`, or `from` and `to`: the query fields of every route that answers for a day or a range of days. */
export const DayRangeQueryFields = {
  date: CalendarDaySchema.optional().describe('One day (default: today in TIME_ZONE)'),
  from: CalendarDaySchema.optional().describe('First day of a range; needs `to`'),
  to: CalendarDaySchema.optional().describe('Last day of a range, inclusive; needs `from`'),
};

type DayRangeQuery = { date?: string | undefined; from?: string | undefined; to?: string | undefined };

export function checkDayRange(query: DayRangeQuery, context: z.RefinementCtx): void {
  const problem = (message: string, field: string) => context.addIssue({ code: 'custom', message, path: [field] });
  if (query.date !== undefined && (query.from !== undefined || query.to !== undefined)) problem('give either date or from and to, not both', 'date');
  if ((query.from === undefined) !== (query.to === undefined)) problem('from and to go together', 'from');
  if (query.from !== undefined && query.to !== undefined) {
    if (query.from > query.to) problem('from must not be after to', 'from');
    else if (daysBetween(query.from, query.to) >= MAX_RANGE_DAYS) problem(`a range covers at most ${MAX_RANGE_DAYS} days`, 'to');
  }
}

/** The days a checked query asks for: its range, or its date, or today. */
export function dayRangeOf(query: DayRangeQuery, today: string): { from: string; to: string } {
  if (query.from !== undefined && query.to !== undefined) return { from: query.from, to: query.to };
  const day = query.date ?? today;
  return { from: day, to: day };
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}
