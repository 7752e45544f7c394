// Review console: sign-in, routing (#/queue, #/task/<id>), header and global shortcuts.
import { ApiError, Review, canReadAnalytics, mainRole, session, whenUnauthorised } from './api.js';
import { h, mount } from './dom.js';
import { renderAgents } from './views/agents.js';
import { renderAnalytics } from './views/analytics.js';
import { renderHandOffs } from './views/handoffs.js';
import { renderItem } from './views/item.js';
import { renderLedger } from './views/ledger.js';
import { renderQueue } from './views/queue.js';

const main = document.getElementById('main');
let current = { dispose: () => undefined, onKey: () => false };

/** Demo users of the embedded mode's dev sign-in. */
const DEMO_USERS = [
  { sub: 'rev-ana', label: 'Ana', role: 'reviewer', tenant: 'acme' },
  { sub: 'rev-ben', label: 'Ben', role: 'reviewer', tenant: 'acme' },
  { sub: 'sup-cleo', label: 'Cleo', role: 'supervisor', tenant: 'acme' },
  { sub: 'aud-dan', label: 'Dan', role: 'auditor', tenant: 'acme' },
  { sub: 'adm-eve', label: 'Eve', role: 'admin', tenant: 'acme' },
  { sub: 'rev-gus', label: 'Gus', role: 'reviewer', tenant: 'globex' },
];

export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.className = `toast show ${kind}`;
  el.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.className = 'toast'), 5000);
}

function header() {
  const me = session.me;
  mount(
    document.getElementById('nav'),
    me
      ? [
          ['#/queue', 'Queue'],
          ['#/handoffs', 'Hand-offs'],
          ['#/agents', 'Agents'],
          ['#/ledger', 'Ledger'],
          ...(canReadAnalytics() ? [['#/analytics', 'Reviewers']] : []),
        ].map(([href, label]) =>
          h(
            'a',
            {
              href,
              class: 'nav-link',
              'aria-current': location.hash.startsWith(href) ? 'page' : undefined,
            },
            label,
          ),
        )
      : null,
  );
  mount(
    document.getElementById('user'),
    me
      ? [
          h('span', { class: 'user-id', 'data-testid': 'user-id' }, me.id),
          h('span', { class: `role role-${mainRole()}`, 'data-testid': 'user-role' }, mainRole()),
          h('span', { class: 'tenant', title: 'tenant' }, me.tenantId),
          h('button', { class: 'btn btn-quiet', type: 'button', onclick: signOut }, 'Sign out'),
        ]
      : null,
  );
}

function signOut() {
  session.token = undefined;
  session.me = undefined;
  location.hash = '#/signin';
  route();
}

function signInView(message) {
  const status = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const choose = async (sub) => {
    try {
      const { token } = await Review.devLogin(sub);
      session.token = token;
      await start('#/queue');
    } catch (err) {
      status.textContent =
        err instanceof ApiError && err.status === 404
          ? 'Dev sign-in is not available on this server: sign in through your identity provider.'
          : `Sign-in failed: ${err.message}`;
    }
  };
  return h(
    'section',
    { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      'Embedded mode: choose a demo user. In production the identity provider sends you here with a token.',
    ),
    h(
      'ul',
      { class: 'users' },
      DEMO_USERS.map((u) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'user-choice',
              'data-sub': u.sub,
              onclick: () => choose(u.sub),
            },
            h('strong', {}, u.sub),
            h('span', { class: `role role-${u.role}` }, u.role),
            h('span', { class: 'muted' }, u.tenant),
          ),
        ),
      ),
    ),
    status,
  );
}

async function start(hash) {
  try {
    session.me = await Review.me();
    session.config = await Review.config();
  } catch (err) {
    session.token = undefined;
    session.me = undefined;
    header();
    mount(main, signInView(err.status === 401 ? 'Your session has ended.' : err.message));
    return;
  }
  if (hash && location.hash !== hash) location.hash = hash;
  else route();
}

function route() {
  current.dispose();
  current = { dispose: () => undefined, onKey: () => false };
  header();
  if (!session.me) {
    mount(main, signInView());
    main.querySelector('button')?.focus();
    return;
  }
  const hash = location.hash || '#/queue';
  const task = /^#\/task\/(.+)$/.exec(hash);
  const params = new URLSearchParams(hash.split('?')[1] ?? '');
  if (task) current = renderItem(main, decodeURIComponent(task[1]), { toast });
  else if (hash.startsWith('#/ledger')) current = renderLedger(main, params);
  else if (hash.startsWith('#/agents')) current = renderAgents(main, { toast });
  else if (hash.startsWith('#/handoffs')) current = renderHandOffs(main, params, { toast });
  else if (hash.startsWith('#/analytics')) current = renderAnalytics(main, params);
  else current = renderQueue(main, params, { toast });
}

function typing(e) {
  const t = e.target;
  return (
    t instanceof HTMLInputElement ||
    t instanceof HTMLTextAreaElement ||
    t instanceof HTMLSelectElement ||
    t?.isContentEditable
  );
}

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const help = document.getElementById('help');
  if (help.open) return;
  if (typing(e)) {
    if (e.key === 'Escape') e.target.blur();
    return;
  }
  if (e.key === '?') {
    help.showModal();
    e.preventDefault();
    return;
  }
  if (current.onKey(e)) e.preventDefault();
});

window.addEventListener('hashchange', () => {
  if (location.hash.startsWith('#token=')) return boot();
  route();
});
whenUnauthorised(() => {
  session.me = undefined;
  session.token = undefined;
  route();
  toast('Your session has ended: sign in again.', 'error');
});

async function boot() {
  // An identity provider hands the token over in the fragment: keep it, and take it off the URL.
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (m) {
    session.token = decodeURIComponent(m[1]);
    history.replaceState(null, '', `${location.pathname}#/queue`);
  }
  if (session.token) await start();
  else route();
}

boot();
