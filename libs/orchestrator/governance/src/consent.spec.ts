// Test fixtures only (the demo CRM's consent scenarios); production code passes fields in.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { DEMO_DATASET, DEMO_SCENARIOS } from '@mandate/connectors-domain';
import { inQuietHours, localClock, outreachAllowed } from './consent';

const fieldsOf = (id: string) => {
  const record = DEMO_DATASET.find((r) => r.id === id);
  if (!record) throw new Error(`demo record ${id} missing`);
  return record.fields;
};

/** Monday 16 November 2026, 10:00 in Berlin (the demo's reference morning). */
const MONDAY_MORNING = new Date('2026-11-16T09:00:00Z');
const BERLIN = 'Europe/Berlin';
const CONSENTED = { status: 'active', emailConsent: true, optedOut: false };

describe('outreachAllowed: consent', () => {
  it('allows a consented, not opted-out, active contact during business hours', () => {
    expect(outreachAllowed(fieldsOf('con-0001'), MONDAY_MORNING, BERLIN)).toEqual({
      allowed: true,
    });
    expect(outreachAllowed(CONSENTED, MONDAY_MORNING, BERLIN)).toEqual({ allowed: true });
  });

  it('refuses the opted-out demo contact (OPTED_OUT)', () => {
    const [contactId] = DEMO_SCENARIOS.optedOutContact;
    expect(outreachAllowed(fieldsOf(contactId), MONDAY_MORNING, BERLIN)).toEqual({
      allowed: false,
      reason: 'OPTED_OUT',
    });
  });

  it('refuses the lead whose consent was never recorded (CONSENT_UNKNOWN)', () => {
    const [leadId] = DEMO_SCENARIOS.consentUnknownLead;
    expect(outreachAllowed(fieldsOf(leadId), MONDAY_MORNING, BERLIN)).toEqual({
      allowed: false,
      reason: 'CONSENT_UNKNOWN',
    });
  });

  it('refuses a contact who has left (CONTACT_LEFT) before looking at consent', () => {
    const left = DEMO_DATASET.find(
      (r) => r.objectType === 'contact' && r.fields['status'] === 'left',
    );
    expect(left).toBeDefined();
    expect(outreachAllowed(left?.fields ?? {}, MONDAY_MORNING, BERLIN)).toEqual({
      allowed: false,
      reason: 'CONTACT_LEFT',
    });
    expect(outreachAllowed({ ...CONSENTED, status: 'Left' }, MONDAY_MORNING, BERLIN)).toEqual({
      allowed: false,
      reason: 'CONTACT_LEFT',
    });
  });

  it.each([
    [{ emailConsent: false, optedOut: false }, 'NO_CONSENT'],
    [{ emailConsent: true, optedOut: true }, 'OPTED_OUT'],
    [{ emailConsent: false, optedOut: true }, 'OPTED_OUT'],
    [{ emailConsent: 'false', optedOut: 'false' }, 'NO_CONSENT'],
    [{ emailConsent: true }, 'CONSENT_UNKNOWN'],
    [{ optedOut: false }, 'CONSENT_UNKNOWN'],
    [{}, 'CONSENT_UNKNOWN'],
    [{ emailConsent: 'yes', optedOut: false }, 'CONSENT_UNKNOWN'],
    [{ emailConsent: 1, optedOut: 0 }, 'CONSENT_UNKNOWN'],
    [{ emailConsent: true, optedOut: null }, 'CONSENT_UNKNOWN'],
  ] as const)('%j → %s', (fields, reason) => {
    expect(outreachAllowed(fields, MONDAY_MORNING, BERLIN)).toEqual({ allowed: false, reason });
  });

  it('accepts "true"/"false" strings as CRM snapshots render them', () => {
    expect(
      outreachAllowed({ emailConsent: 'true', optedOut: 'false' }, MONDAY_MORNING, BERLIN),
    ).toEqual({ allowed: true });
  });

  it('puts permanent reasons before quiet hours', () => {
    const saturdayNight = new Date('2026-11-21T22:00:00Z');
    expect(outreachAllowed(fieldsOf('con-0003'), saturdayNight, BERLIN)).toEqual({
      allowed: false,
      reason: 'OPTED_OUT',
    });
    expect(outreachAllowed(CONSENTED, saturdayNight, BERLIN)).toEqual({
      allowed: false,
      reason: 'QUIET_HOURS',
    });
  });
});

describe('outreachAllowed: quiet hours in the tenant time zone', () => {
  const at = (iso: string, tz: string) => outreachAllowed(CONSENTED, new Date(iso), tz);
  const quiet = { allowed: false, reason: 'QUIET_HOURS' };
  const ok = { allowed: true };

  it('quiet from 20:00 to 08:00 local time', () => {
    expect(at('2026-11-16T06:59:59Z', BERLIN)).toEqual(quiet); // 07:59:59 CET
    expect(at('2026-11-16T07:00:00Z', BERLIN)).toEqual(ok); // 08:00
    expect(at('2026-11-16T18:59:59Z', BERLIN)).toEqual(ok); // 19:59:59
    expect(at('2026-11-16T19:00:00Z', BERLIN)).toEqual(quiet); // 20:00
    expect(at('2026-11-16T23:30:00Z', BERLIN)).toEqual(quiet); // 00:30 Tuesday
  });

  it('quiet all Saturday and Sunday', () => {
    expect(at('2026-11-21T12:00:00Z', BERLIN)).toEqual(quiet); // Saturday noon
    expect(at('2026-11-22T12:00:00Z', BERLIN)).toEqual(quiet); // Sunday noon
    expect(at('2026-11-20T12:00:00Z', BERLIN)).toEqual(ok); // Friday noon
  });

  it('the same instant is a weekday in one tenant and the weekend in another', () => {
    const fridayEveningUtc = '2026-11-20T23:30:00Z';
    expect(at(fridayEveningUtc, 'Asia/Tokyo')).toEqual(quiet); // Saturday 08:30
    expect(at(fridayEveningUtc, 'America/Los_Angeles')).toEqual(ok); // Friday 15:30
    expect(at(fridayEveningUtc, 'America/New_York')).toEqual(ok); // Friday 18:30
    expect(at(fridayEveningUtc, BERLIN)).toEqual(quiet); // Saturday 00:30
  });

  it('follows daylight saving time (spring forward)', () => {
    // New York moves to EDT on Sunday 8 March 2026: 12:30 UTC is 07:30 before, 08:30 after.
    expect(at('2026-03-06T12:30:00Z', 'America/New_York')).toEqual(quiet);
    expect(at('2026-03-09T12:30:00Z', 'America/New_York')).toEqual(ok);
    // Berlin moves to CEST on Sunday 29 March 2026: 18:30 UTC is 19:30 before, 20:30 after.
    expect(at('2026-03-27T18:30:00Z', BERLIN)).toEqual(ok);
    expect(at('2026-03-30T18:30:00Z', BERLIN)).toEqual(quiet);
  });

  it('follows daylight saving time (fall back)', () => {
    // Berlin returns to CET on Sunday 25 October 2026: 06:30 UTC is 08:30 before, 07:30 after.
    expect(at('2026-10-23T06:30:00Z', BERLIN)).toEqual(ok);
    expect(at('2026-10-26T06:30:00Z', BERLIN)).toEqual(quiet);
    expect(localClock(new Date('2026-10-25T00:30:00Z'), BERLIN)).toEqual({ hour: 2, weekday: 7 });
    expect(localClock(new Date('2026-10-25T01:30:00Z'), BERLIN)).toEqual({ hour: 2, weekday: 7 });
  });

  it('works for zones with odd offsets and no DST', () => {
    // Kolkata is UTC+05:30: 02:29 UTC is 07:59, 02:30 UTC is 08:00.
    expect(inQuietHours(new Date('2026-11-16T02:29:00Z'), 'Asia/Kolkata')).toBe(true);
    expect(inQuietHours(new Date('2026-11-16T02:30:00Z'), 'Asia/Kolkata')).toBe(false);
    expect(localClock(new Date('2026-11-16T00:00:00Z'), 'UTC')).toEqual({ hour: 0, weekday: 1 });
  });

  it('fails loudly on an unknown time zone or an invalid date', () => {
    expect(() => at('2026-11-16T09:00:00Z', 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => outreachAllowed(CONSENTED, new Date('nope'), BERLIN)).toThrow(RangeError);
  });
});
