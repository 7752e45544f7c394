/** Local wall-clock facts of an instant in a time zone, for quiet-hours policies. */
export interface LocalClock {
  /** 0..23. */
  localHour: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

// Building an Intl formatter costs far more than formatting, so keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local hour and weekday of `now` in `timeZone` (IANA); undefined if either is invalid. */
export function localClock(now: Date, timeZone: string): LocalClock | undefined {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) return undefined;
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    try {
      fmt = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hour: 'numeric',
        hourCycle: 'h23',
        weekday: 'short',
      });
    } catch {
      return undefined; // RangeError: not a valid IANA time zone
    }
    if (formatters.size > 1000) formatters.clear();
    formatters.set(timeZone, fmt);
  }
  let hour: number | undefined;
  let weekday: number | undefined;
  for (const part of fmt.formatToParts(now)) {
    if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'weekday') weekday = WEEKDAYS[part.value];
  }
  if (hour === undefined || !Number.isInteger(hour) || weekday === undefined) return undefined;
  return { localHour: hour, weekday };
}
