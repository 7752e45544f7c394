// The ledger view: one causal chain (a correlation id, or everything about a CRM record).
import { Ledger } from '../api.js';
import { h, mount } from '../dom.js';
import { renderChain } from './chain.js';

export function renderLedger(main, params) {
  const correlationId = params.get('correlationId') ?? '';
  const objectType = params.get('objectType') ?? '';
  const recordId = params.get('recordId') ?? '';
  const box = h('div', { class: 'card', 'aria-live': 'polite' });
  const corr = h('input', {
    id: 'q-correlation',
    value: correlationId,
    placeholder: 'correlation id',
  });
  const type = h('input', { id: 'q-type', value: objectType, placeholder: 'e.g. opportunity' });
  const rec = h('input', { id: 'q-record', value: recordId, placeholder: 'record id' });
  const go = (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (corr.value.trim()) q.set('correlationId', corr.value.trim());
    else if (type.value.trim() && rec.value.trim()) {
      q.set('objectType', type.value.trim());
      q.set('recordId', rec.value.trim());
    }
    location.hash = `#/ledger?${q}`;
  };
  mount(
    main,
    h(
      'section',
      { class: 'ledger-view', 'aria-labelledby': 'ledger-title' },
      h('div', { class: 'view-head' }, h('h1', { id: 'ledger-title' }, 'Ledger')),
      h(
        'p',
        { class: 'muted' },
        'A causal chain from the audit ledger. Your browser checks every entry: its bytes against its leaf hash, its inclusion proof against the checkpoint, and the checkpoint’s signature against the pinned key.',
      ),
      h(
        'form',
        { class: 'filters', onsubmit: go, role: 'search' },
        h('label', { for: 'q-correlation' }, 'Correlation'),
        corr,
        h('span', { class: 'muted' }, 'or'),
        h('label', { for: 'q-type' }, 'Record'),
        type,
        rec,
        h('button', { class: 'btn', type: 'submit' }, 'Show chain'),
      ),
      box,
    ),
  );
  const key = correlationId
    ? { correlationId }
    : objectType && recordId
      ? { objectType, recordId }
      : undefined;
  if (!key) {
    mount(box, h('p', { class: 'muted' }, 'Give a correlation id, or a record type and id.'));
    return { dispose: () => undefined, onKey: () => false };
  }
  Ledger.chain(key)
    .then((chain) => renderChain(box, chain))
    .catch((err) =>
      mount(
        box,
        h('p', { class: 'error', role: 'alert' }, `The chain could not be read: ${err.message}`),
      ),
    );
  return { dispose: () => undefined, onKey: () => false };
}
