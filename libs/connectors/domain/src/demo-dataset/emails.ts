/**
 * Email addresses of the demo dataset. Every address is at a `.example` domain (reserved by
 * RFC 2606, never delivered) except the free-mail ones listed in `REAL_FREE_MAIL_ADDRESSES`:
 * `sam.ortega@gmail.com` of the original demo leads, kept unchanged.
 */

/** The vendor whose CRM this is. */
export const VENDOR_DOMAIN = 'acme-analytics.example';

/**
 * Domains that look like consumer mailboxes: a lead writing from one is probably not a buyer.
 * `gmail.com` appears only in `REAL_FREE_MAIL_ADDRESSES`; every other free-mail address of the
 * dataset uses a `.example` look-alike, so no real mailbox is ever named.
 */
export const FREE_MAIL_DOMAINS: readonly string[] = [
  'gmail.com',
  'freemail.example',
  'webmail.example',
];

/** The only addresses outside `.example`: from `DEMO_LEADS`, which this dataset keeps as is. */
export const REAL_FREE_MAIL_ADDRESSES: readonly string[] = ['sam.ortega@gmail.com'];

/** An outside address the prompt-injection emails try to send data to. */
export const EXFILTRATION_ADDRESS = 'collector@exfil.example';

/** True when an address is one the dataset may contain (see the module comment). */
export function isAllowedDemoEmail(address: string): boolean {
  if (REAL_FREE_MAIL_ADDRESSES.includes(address)) return true;
  return /^[a-z0-9._+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.example$/.test(address);
}

export function isFreeMail(address: string): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1);
  return FREE_MAIL_DOMAINS.includes(domain);
}

/** ASCII, lower case, words joined by `sep`: "Søren Ávila-Núñez" → "soren-avila-nunez". */
export function slug(text: string, sep = '-'): string {
  return text
    .replace(/[øØ]/g, 'o')
    .replace(/[æÆ]/g, 'ae')
    .replace(/ß/g, 'ss')
    .replace(/[łŁ]/g, 'l')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0)
    .join(sep);
}

export function companyDomain(company: string): string {
  return `${slug(company)}.example`;
}

/** Hands out addresses, never the same one twice: "first.last", then "f.last", "first.last2", … */
export class EmailAllocator {
  private readonly taken = new Set<string>();

  reserve(address: string): string {
    if (this.taken.has(address)) throw new Error(`email ${address} is already taken`);
    this.taken.add(address);
    return address;
  }

  person(first: string, last: string, domain: string): string {
    const f = slug(first, '');
    const l = slug(last, '');
    const candidates = [`${f}.${l}`, `${f.charAt(0)}.${l}`, `${f}${l.charAt(0)}`];
    for (const local of candidates) {
      const address = `${local}@${domain}`;
      if (!this.taken.has(address)) return this.reserve(address);
    }
    for (let n = 2; ; n++) {
      const address = `${f}.${l}${n}@${domain}`;
      if (!this.taken.has(address)) return this.reserve(address);
    }
  }
}
