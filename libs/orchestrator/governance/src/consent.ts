import type { RecordFields } from './field-access';

/** Why outreach may not be proposed. */
export type OutreachRefusal =
  /** Consent was recorded as not given (`emailConsent: false`). */
  | 'NO_CONSENT'
  /** The person opted out (`optedOut: true`); outranks any consent. */
  | 'OPTED_OUT'
  /** `emailConsent` or `optedOut` is missing or not a boolean: no email until someone records it. */
  | 'CONSENT_UNKNOWN'
  /** 20:00–08:00 or Saturday/Sunday in the tenant's time zone: try again later. */
  | 'QUIET_HOURS'
  /** The contact has left the company (`status: "left"` or `"inactive"`). */
  | 'CONTACT_LEFT';

export type OutreachCheck =
  { readonly allowed: true } | { readonly allowed: false; readonly reason: OutreachRefusal };

/** Quiet hours, as in `50-outbound.cedar`: local hour >= 20 or < 8, ISO weekday >= 6. */
export const QUIET_HOURS = { startHour: 20, endHour: 8, weekendFromIsoWeekday: 6 } as const;

const LEFT_STATUSES = new Set(['left', 'inactive']);

const ISO_WEEKDAY: Readonly<Record<string, number>> = {
  Mon: 1,
  Tue: 2,
  Wed: 3,
  Thu: 4,
  Fri: 5,
  Sat: 6,
  Sun: 7,
};

/**
 * Local hour (0–23) and ISO weekday (1 = Monday … 7 = Sunday) of `now` in `timeZone` (IANA name;
 * daylight saving time included). An unknown time zone throws a RangeError: a misconfigured
 * tenant must fail loudly, not send at 3 a.m.
 */
export function localClock(now: Date, timeZone: string): { hour: number; weekday: number } {
  if (Number.isNaN(now.getTime())) throw new RangeError('invalid date');
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    hour: '2-digit',
    weekday: 'short',
  }).formatToParts(now);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value);
  const weekday = ISO_WEEKDAY[parts.find((p) => p.type === 'weekday')?.value ?? ''];
  if (!Number.isInteger(hour) || weekday === undefined)
    throw new RangeError(`cannot read the local time in "${timeZone}"`);
  return { hour: hour === 24 ? 0 : hour, weekday };
}

/** True inside quiet hours in `timeZone`. */
export function inQuietHours(now: Date, timeZone: string): boolean {
  const { hour, weekday } = localClock(now, timeZone);
  return (
    hour >= QUIET_HOURS.startHour ||
    hour < QUIET_HOURS.endHour ||
    weekday >= QUIET_HOURS.weekendFromIsoWeekday
  );
}

/** A boolean field, strictly: true/false or "true"/"false"; anything else is unknown. */
function strictBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/**
 * May an agent propose outreach (an email) to this person now? Checked BEFORE proposing, on the
 * record's own fields (not on what a model says about them), with the semantics of
 * `libs/policy/bundles/default/policies/50-outbound.cedar`: consent must be visibly recorded
 * (`emailConsent` true AND `optedOut` present and false), and never during quiet hours. Policy
 * checks again at decision time; this check keeps agents from proposing what policy would deny.
 *
 * Permanent reasons come first (left, opted out, no consent, unknown consent), then quiet hours.
 */
export function outreachAllowed(
  contactFields: RecordFields,
  now: Date,
  tenantTimeZone: string,
): OutreachCheck {
  const status = contactFields['status'];
  if (typeof status === 'string' && LEFT_STATUSES.has(status.trim().toLowerCase()))
    return { allowed: false, reason: 'CONTACT_LEFT' };
  const optedOut = strictBoolean(contactFields['optedOut']);
  const consent = strictBoolean(contactFields['emailConsent']);
  if (optedOut === true) return { allowed: false, reason: 'OPTED_OUT' };
  if (consent === false) return { allowed: false, reason: 'NO_CONSENT' };
  if (consent === undefined || optedOut === undefined)
    return { allowed: false, reason: 'CONSENT_UNKNOWN' };
  if (inQuietHours(now, tenantTimeZone)) return { allowed: false, reason: 'QUIET_HOURS' };
  return { allowed: true };
}
