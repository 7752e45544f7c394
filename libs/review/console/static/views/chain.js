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
  const keys = session.config?.ledger?.verifierKeys ?? [];
  mount(box, h('p', { class: 'muted' }, 'Checking proofs…'));
  const result = await verifyChain(chain, keys);
  const rows = [
    ...chain.entries.map((e) => ({ e, v: result.entries.get(e.leafIndex) })),
    ...(chain.pending ?? []).map((e) => ({ e, v: { status: 'pending' } })),
  ].sort((a, b) => a.e.leafIndex - b.e.leafIndex);
  const cp = chain.checkpoint;
  const failed = rows.filter((r) => r.v.status === 'failed').length;
  mount(
    box,
    h(
      'p',
      { class: 'chain-head', 'data-testid': 'chain-head' },
      cp
        ? [
            badge(failed ? 'failed' : result.checkpoint.status, result.checkpoint.reason),
            ` ${rows.length} entr${rows.length === 1 ? 'y' : 'ies'} · checkpoint `,
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
            rows.map(({ e, v }) =>
              h(
                'tr',
                { 'data-kind': e.kind, 'data-leaf': e.leafIndex },
                h('td', { class: 'mono' }, e.leafIndex),
                h('td', {}, h('time', { datetime: e.occurredAt }, time(e.occurredAt))),
                h('td', {}, h('span', { class: 'tag' }, e.kind.toLowerCase().replace(/_/g, ' '))),
                h('td', { class: 'mono' }, e.actor),
                h('td', {}, e.summary),
                h('td', {}, badge(v.status, v.reason)),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'Nothing in the ledger yet.'),
  );
  return result;
}
