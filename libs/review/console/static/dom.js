// Small DOM and formatting helpers: elements are built, never parsed from strings, so nothing the
// server sends (record fields, rationales, comments) can inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** h('div', {class: 'x', onclick: fn}, child, 'text', [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  return fill(el, attrs, children);
}

/** Like h, in the SVG namespace. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  return fill(el, attrs, children);
}

function fill(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** "low" | "medium" | "high" | "critical" from any of the server's spellings. */
export function band(v) {
  return String(v ?? '')
    .toLowerCase()
    .replace(/^(risk_band_|trust_band_)/, '')
    .replace(/_/g, ' ');
}

/** "apply_discount", "applyDiscount", "APPLY_DISCOUNT" → "apply discount". */
export function actionLabel(type) {
  return String(type ?? '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/_/g, ' ');
}

/** The oneof key of CrmAction's JSON form: "apply_discount" → "applyDiscount". */
export function actionKey(type) {
  return String(type ?? '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/_([a-z])/g, (_m, c) => c.toUpperCase());
}

export function isMoney(v) {
  return v && typeof v === 'object' && 'currencyCode' in v && 'amountMinor' in v;
}

export function money(v) {
  const minor = Number(v.amountMinor);
  const digits = v.currencyCode === 'JPY' ? 0 : 2;
  const major = minor / 10 ** digits;
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency: v.currencyCode }).format(
      major,
    );
  } catch {
    return `${v.currencyCode} ${major.toFixed(digits)}`;
  }
}

/** A field value as a reviewer reads it. */
export function value(v) {
  if (v === undefined || v === null || v === '') return '—';
  if (isMoney(v)) return money(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? String(iso)
    : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

/** Remaining time until `iso`: "1h 04m", "3m 12s", "overdue 2m 05s". */
export function countdown(iso, now = Date.now()) {
  const ms = new Date(iso).getTime() - now;
  const abs = Math.abs(ms);
  const sec = Math.floor(abs / 1000) % 60;
  const min = Math.floor(abs / 60_000) % 60;
  const hrs = Math.floor(abs / 3_600_000);
  const pad = (n) => String(n).padStart(2, '0');
  const text = hrs > 0 ? `${hrs}h ${pad(min)}m` : `${min}m ${pad(sec)}s`;
  return ms < 0 ? `overdue ${text}` : text;
}

/** "ok" | "warn" | "overdue" for an active task's SLA. */
export function slaState(task, now = Date.now()) {
  if (new Date(task.dueAt).getTime() <= now) return 'overdue';
  if (task.warnAt && new Date(task.warnAt).getTime() <= now) return 'warn';
  return 'ok';
}

export const ACTIVE = new Set(['OPEN', 'CLAIMED']);
