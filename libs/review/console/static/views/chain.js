// A causal chain from the audit ledger, every entry checked in this browser (verify.js).
import { session } from '../api.js';
import { h, mount, time } from '../dom.js';
import { verifyChain } from '../verify.js';

const BADGE = {
  verified: ['verified', 'Leaf, inclusion proof and checkpoint signature checked in your browser'],
  'proof-only': [
    'proof checked',
    'Leaf and inclusion proof checked; no verifier key is pinned, so the checkpoint signature is not',
  ],
  pending: ['awaiting checkpoint', 'Appended after the latest signed checkpoint: provable soon'],
  failed: ['NOT VERIFIED', 'The entry does not verify against the signed checkpoint'],
};

export function badge(status, reason) {
  const [label, title] = BADGE[status] ?? [status, ''];
  return h(
    'span',
    {
      class: `proof proof-${status}`,
      title: reason ? `${title}: ${reason}` : title,
      'data-proof': status,
    },
    status === 'verified' ? '✓ ' : status === 'failed' ? '✗ ' : '',
    label,
  );
}

/** Renders `chain` (the review service's ChainView) into `box` once it has been verified. */
export async function renderChain(box, chain, { link } = {}) {
  const ledger = session.config?.ledger ?? {};
  const tenantId = session.me.tenantId;
  mount(box, h('p', { class: 'muted' }, 'Checking proofs…'));
  const result = await verifyChain(chain, {
    verifierKeys: ledger.verifierKeys ?? [],
    origin: ledger.origin ? `${ledger.origin}/${tenantId}` : undefined,
    tenantId,
  });
  const { rows } = result;
  const cp = chain.checkpoint;
  const failed = rows.filter((r) => r.status === 'failed').length;
  const pending = rows.filter((r) => r.status === 'pending').length;
  const proven = rows.length - failed - pending;
  mount(
    box,
    h(
      'p',
      { class: 'chain-head', 'data-testid': 'chain-head' },
      cp
        ? [
            result.checkpoint.status === 'failed'
              ? badge('failed', result.checkpoint.reason)
              : failed
                ? badge('failed', `${failed} entr${failed === 1 ? 'y does' : 'ies do'} not verify`)
                : badge(result.checkpoint.status, result.checkpoint.reason),
            ` ${proven} of ${rows.length} entr${rows.length === 1 ? 'y' : 'ies'} proven` +
              (pending ? `, ${pending} awaiting the next checkpoint` : '') +
              ' · checkpoint ',
            h('span', { class: 'mono', title: cp.signedNote }, `${cp.origin} @ ${cp.treeSize}`),
            result.checkpoint.signers?.length
              ? h('span', { class: 'muted' }, ` signed by ${result.checkpoint.signers.join(', ')}`)
              : null,
          ]
        : h('span', { class: 'muted' }, 'No signed checkpoint yet.'),
      link ? [' ', h('a', { href: link }, 'Open in the ledger view')] : null,
    ),
    rows.length
      ? h(
          'table',
          { class: 'chain', 'data-testid': 'chain' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['#', 'When', 'Kind', 'Actor', 'What', 'Proof'].map((c) =>
                h('th', { scope: 'col' }, c),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map(({ leafIndex, record: r, status, reason }) =>
              h(
                'tr',
                { 'data-kind': r?.kind ?? 'UNREADABLE', 'data-leaf': leafIndex },
                h('td', { class: 'mono' }, leafIndex),
                h('td', {}, h('time', { datetime: r?.occurredAt }, time(r?.occurredAt))),
                h(
                  'td',
                  {},
                  h(
                    'span',
                    { class: 'tag' },
                    (r?.kind ?? 'unreadable').toLowerCase().replace(/_/g, ' '),
                  ),
                ),
                h('td', { class: 'mono' }, r?.actor ?? ''),
                h('td', {}, r?.summary ?? ''),
                h('td', {}, badge(status, reason)),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Nothing in the ledger yet.'),
  );
  return result;
}
