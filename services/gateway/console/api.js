// api - the gateway's /v1 API with the signed-in token.
export class ApiError extends Error {
  constructor (status, code, message) { super(message); this.status = status; this.code = code; }
}

export function token () { return sessionStorage.getItem('tashan_token') || ''; }
export function setToken (t) {
  if (t) sessionStorage.setItem('tashan_token', t); else sessionStorage.removeItem('tashan_token');
}

export async function api (method, path, body) {
  const opt = { method, headers: {} };
  if (token()) opt.headers.Authorization = 'Bearer ' + token();
  if (body !== undefined) { opt.headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
  const r = await fetch(path, opt);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (!r.ok) {
    const err = data && data.error ? data.error : { code: String(r.status), message: text };
    throw new ApiError(r.status, err.code, err.message);
  }
  return data;
}
export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b === undefined ? {} : b);
export const put = (p, b) => api('PUT', p, b);
export const patch = (p, b) => api('PATCH', p, b);

// Query string from an object, empty values left out.
export function qs (o) {
  const s = Object.entries(o).filter(([, x]) => x !== undefined && x !== null && x !== '')
    .map(([k, x]) => encodeURIComponent(k) + '=' + encodeURIComponent(x)).join('&');
  return s ? '?' + s : '';
}

// An SVG document (QR codes) fetched with the token.
export async function svg (path) {
  const r = await fetch(path, { headers: { Authorization: 'Bearer ' + token() } });
  if (!r.ok) throw new ApiError(r.status, 'svg', 'cannot load ' + path);
  return r.text();
}

// Every page of a paged list (bounded).
export async function all (path, field, pages = 20) {
  let out = [], pageToken = '';
  for (let i = 0; i < pages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await get(path + sep + 'page_size=1000' + (pageToken ? '&page_token=' + encodeURIComponent(pageToken) : ''));
    out = out.concat(r[field] || []);
    pageToken = r.next_page_token;
    if (!pageToken) break;
  }
  return out;
}

export function newKey (prefix) {
  const a = new Uint8Array(8); crypto.getRandomValues(a);
  return prefix + '-' + Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}
