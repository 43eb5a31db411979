// The chat page: conversations with the server's /v1/chat/completions,
// streamed, kept in localStorage. With a vision projector (/props
// modalities.vision) user messages carry images too: data: URLs, kept in
// the message's "images" and sent as OpenAI image_url content parts.
import { el, render } from './markdown.js';

const $ = id => document.getElementById(id);
const store = {
  get(key, def) { try { return JSON.parse(localStorage.getItem('llamafile.' + key)) ?? def; } catch { return def; } },
  set(key, v) { localStorage.setItem('llamafile.' + key, JSON.stringify(v)); },
};
const maxSide = 1024; // images larger than this are scaled down before they are kept
let attachments = []; // data: URLs of the images for the next message
const defaults = { system: '', temperature: 0.8, top_p: 0.95, top_k: 40, min_p: 0.05, max_tokens: -1, seed: -1, extra: '' };
let settings = { ...defaults, ...store.get('settings', {}) };
let conversations = store.get('conversations', []);
let current = store.get('current', null);
let props = { model: '', n_ctx: 0, vision: false };
let controller = null; // the request in flight

const base = new URL('.', location.href); // the page's directory: --url-prefix
const api = path => new URL(path, base).href;

// save keeps the conversations; when the browser's storage (about 5 MB)
// is full it says so, and the page goes on with what it has in memory.
function save() {
  try {
    store.set('conversations', conversations);
    store.set('current', current);
    notice('');
  } catch (e) {
    notice('The conversations could not be saved in the browser (' + (e.name || e.message) +
      '): its storage is full, images take much of it. Delete or export old conversations; until then this one is lost on a reload.');
  }
}

function notice(text) { const n = $('notice'); n.textContent = text; n.hidden = !text; }
function conversation() { return conversations.find(c => c.id === current); }
function newID() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 6); }
function newConversation() {
  const c = { id: newID(), title: 'New chat', messages: [], updated: Date.now() };
  conversations.unshift(c);
  current = c.id;
  save();
  return c;
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without clipboard access (plain http on another host): a selection.
    const t = document.createElement('textarea');
    t.value = text; document.body.append(t); t.select(); document.execCommand('copy'); t.remove();
  }
  if (button) { const old = button.textContent; button.textContent = 'Copied'; setTimeout(() => button.textContent = old, 1200); }
}

function headers() {
  const h = { 'Content-Type': 'application/json' };
  const key = store.get('apikey', '');
  if (key) h.Authorization = 'Bearer ' + key;
  return h;
}

// askKey shows the API key dialog and resolves when it is closed.
function askKey() {
  return new Promise(resolve => {
    const d = $('apikey');
    d.querySelector('input').value = '';
    d.addEventListener('close', () => {
      const key = d.querySelector('input').value.trim();
      if (key) store.set('apikey', key);
      resolve(!!key);
    }, { once: true });
    d.showModal();
  });
}

async function loadProps() {
  for (;;) {
    const r = await fetch(api('props'), { headers: headers() });
    if (r.status === 401 && await askKey()) continue;
    if (!r.ok) return;
    const p = await r.json();
    props = { model: p.model_alias || '', n_ctx: p.default_generation_settings?.n_ctx || 0, vision: p.modalities?.vision === true };
    $('model').textContent = props.model;
    $('attach').hidden = !props.vision;
    return;
  }
}

function renderList() {
  const ul = $('conversations');
  ul.replaceChildren();
  for (const c of conversations) {
    const li = document.createElement('li');
    if (c.id === current) li.className = 'current';
    const open = document.createElement('button');
    open.type = 'button'; open.className = 'title'; open.textContent = c.title;
    open.addEventListener('click', () => { if (!controller) { current = c.id; save(); renderAll(); document.body.classList.remove('side-open'); } });
    const rename = button('✎', 'Rename ' + c.title, () => {
      const t = prompt('Name of the conversation', c.title);
      if (t && t.trim()) { c.title = t.trim(); save(); renderList(); }
    });
    const del = button('×', 'Delete ' + c.title, () => {
      if (!confirm('Delete "' + c.title + '"?')) return;
      conversations = conversations.filter(x => x !== c);
      if (current === c.id) current = conversations[0]?.id ?? null;
      save(); renderAll();
    });
    li.append(open, rename, del);
    ul.append(li);
  }
}

function button(label, aria, onclick) {
  const b = document.createElement('button');
  b.type = 'button'; b.textContent = label; b.setAttribute('aria-label', aria);
  b.addEventListener('click', onclick);
  return b;
}

// messageNode draws message i of the conversation.
function messageNode(c, i) {
  const m = c.messages[i];
  const who = m.role === 'user' ? 'You' : 'Assistant';
  const div = el('article', 'msg ' + m.role);
  div.setAttribute('aria-label', who);
  div.append(el('div', 'who', who));
  if (m.reasoning) {
    const d = el('details', 'reasoning');
    const body = el('div', 'body');
    body.append(render(m.reasoning, copy));
    d.append(el('summary', null, 'Reasoning'), body);
    div.append(d);
  }
  if (m.images?.length) div.append(imagesNode(m.images));
  const body = el('div', 'body');
  if (m.role === 'assistant') body.append(render(m.content, copy));
  else body.textContent = m.content;
  body.hidden = !m.content && !!m.images?.length; // an image without words
  div.append(body);
  if (m.error) {
    const e = el('p', 'error', m.error);
    e.setAttribute('role', 'alert');
    div.append(e);
  }
  if (m.meta) div.append(el('div', 'meta', m.meta));
  const actions = el('div', 'actions');
  actions.append(button('Copy', 'Copy the message', e => copy(m.content, e.target)));
  if (m.role === 'user') actions.append(button('Edit', 'Edit the message', () => edit(c, i, div)));
  if (m.role === 'assistant' && i === c.messages.length - 1) actions.append(button('Regenerate', 'Regenerate the reply', () => regenerate(c)));
  div.append(actions);
  return div;
}

// imagesNode shows images (data: URLs); with remove, each has a button
// that calls remove(i).
function imagesNode(images, remove) {
  const box = el('div', 'images');
  images.forEach((url, i) => {
    const fig = el('figure');
    const img = document.createElement('img');
    img.src = url; img.alt = 'Image ' + (i + 1);
    fig.append(img);
    if (remove) fig.append(button('×', 'Remove image ' + (i + 1), () => remove(i)));
    box.append(fig);
  });
  return box;
}

function renderAttachments() {
  const box = $('attachments');
  box.replaceChildren(...imagesNode(attachments, i => { attachments.splice(i, 1); renderAttachments(); }).childNodes);
  box.hidden = attachments.length === 0;
}

// readImage makes a data: URL of an image file, scaled down with a canvas
// when a side is over maxSide (or re-encoded when the server could not
// read its format), so that the stored conversation stays small.
async function readImage(file) {
  const url = await new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
  const img = new Image();
  img.src = url;
  try { await img.decode(); } catch { throw new Error(file.name + ': not an image this browser can read'); }
  const w = img.naturalWidth, h = img.naturalHeight;
  const readable = /^image\/(png|jpeg|gif|webp|bmp)$/.test(file.type); // what the server decodes
  if (w <= maxSide && h <= maxSide && readable && file.size <= 1 << 20) return url;
  const s = Math.min(1, maxSide / Math.max(w, h));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(w * s)); canvas.height = Math.max(1, Math.round(h * s));
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff'; g.fillRect(0, 0, canvas.width, canvas.height); // JPEG has no alpha
  g.drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.9);
}

async function attach(files) {
  for (const f of files) {
    if (!f.type.startsWith('image/')) continue;
    try {
      attachments.push(await readImage(f));
    } catch (e) {
      notice('Attach: ' + e.message);
    }
  }
  renderAttachments();
}

function renderLog() {
  const log = $('log');
  log.replaceChildren();
  const c = conversation();
  if (!c || c.messages.length === 0) {
    log.append(el('div', 'empty', props.model ? 'Chat with ' + props.model : 'Start a conversation'));
    return;
  }
  c.messages.forEach((_, i) => log.append(messageNode(c, i)));
  log.scrollTop = log.scrollHeight;
}

function renderAll() { renderList(); renderLog(); }

function edit(c, i, node) {
  if (controller) return;
  const m = c.messages[i];
  const box = el('div', 'edit');
  const t = document.createElement('textarea');
  t.value = m.content; t.rows = 3; t.setAttribute('aria-label', 'Edit the message');
  const ok = button('Send', 'Send the edited message', () => {
    if (!t.value.trim() && !m.images?.length) return;
    c.messages = c.messages.slice(0, i);
    const next = { role: 'user', content: t.value };
    if (m.images?.length) next.images = m.images; // the edit keeps the message's images
    c.messages.push(next);
    save(); renderLog(); generate(c);
  });
  const cancel = button('Cancel', 'Cancel the edit', () => renderLog());
  box.append(t, ok, cancel);
  node.querySelector('.body').replaceWith(box);
  node.querySelector('.actions').remove();
  t.focus();
}

function regenerate(c) {
  if (controller) return;
  if (c.messages.at(-1)?.role === 'assistant') c.messages.pop();
  save(); renderLog(); generate(c);
}

// content is a message's content for the API: its text, or with images
// OpenAI's parts, the text then the images.
function content(m) {
  if (!m.images?.length) return m.content;
  const parts = [];
  if (m.content) parts.push({ type: 'text', text: m.content });
  for (const url of m.images) parts.push({ type: 'image_url', image_url: { url } });
  return parts;
}

function requestBody(c) {
  const messages = [];
  if (settings.system.trim()) messages.push({ role: 'system', content: settings.system });
  for (const m of c.messages) if (!m.error || m.content) messages.push({ role: m.role, content: content(m) });
  const body = { messages, stream: true, stream_options: { include_usage: true } };
  for (const k of ['temperature', 'top_p', 'top_k', 'min_p', 'max_tokens', 'seed']) {
    const v = Number(settings[k]);
    if (settings[k] !== '' && Number.isFinite(v)) body[k] = v;
  }
  if (body.max_tokens < 0) delete body.max_tokens;
  if (body.seed < 0) delete body.seed;
  if (settings.extra.trim()) Object.assign(body, JSON.parse(settings.extra));
  return body;
}

function busy(on) {
  $('send').hidden = on; $('stop').hidden = !on;
}

// generate streams the assistant's reply to conversation c.
async function generate(c) {
  let body;
  try {
    body = JSON.stringify(requestBody(c)); // before the reply joins the messages
  } catch (e) {
    body = null;
  }
  const m = { role: 'assistant', content: '', reasoning: '' };
  c.messages.push(m);
  if (c.title === 'New chat' && c.messages[0]) c.title = c.messages[0].content.slice(0, 40).trim() || (c.messages[0].images?.length ? 'Image' : 'New chat');
  c.updated = Date.now();
  renderAll();
  const log = $('log');
  let node = log.lastElementChild;
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      const fresh = messageNode(c, c.messages.indexOf(m));
      node.replaceWith(fresh); node = fresh;
      log.scrollTop = log.scrollHeight;
    });
  };
  controller = new AbortController();
  busy(true);
  const started = performance.now();
  let usage = null, timings = null, first = 0;
  try {
    if (body === null) throw new Error('Settings: the extra request fields are not JSON');
    let r;
    for (;;) {
      r = await fetch(api('v1/chat/completions'), { method: 'POST', headers: headers(), body, signal: controller.signal });
      if (r.status === 401 && await askKey()) continue;
      break;
    }
    if (!r.ok) {
      let msg = r.status + ' ' + r.statusText;
      try { msg = (await r.json()).error?.message || msg; } catch {}
      throw new Error(r.status === 401 ? 'This server wants an API key: ' + msg : msg);
    }
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') continue;
        const ev = JSON.parse(data);
        if (ev.error) throw new Error(ev.error.message || 'error');
        const d = ev.choices?.[0]?.delta;
        if (d?.content) { m.content += d.content; first ||= performance.now(); }
        if (d?.reasoning_content) m.reasoning += d.reasoning_content;
        if (ev.usage) usage = ev.usage;
        if (ev.timings) timings = ev.timings;
        redraw();
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') m.error = e.message;
    else m.stopped = true;
  } finally {
    controller = null;
    busy(false);
  }
  const parts = [];
  if (props.model) parts.push(props.model);
  if (timings?.predicted_per_second) parts.push(timings.predicted_per_second.toFixed(1) + ' tokens/s');
  else if (usage?.completion_tokens && first) parts.push((usage.completion_tokens / ((performance.now() - started) / 1000)).toFixed(1) + ' tokens/s');
  if (usage?.total_tokens && props.n_ctx) parts.push('context ' + usage.total_tokens + ' / ' + props.n_ctx);
  if (m.stopped) parts.push('stopped');
  m.meta = parts.join(' · ');
  if (!m.reasoning) delete m.reasoning;
  c.updated = Date.now();
  save();
  renderAll();
}

function send() {
  const text = $('input').value;
  if ((!text.trim() && attachments.length === 0) || controller) return;
  const c = conversation() || newConversation();
  const m = { role: 'user', content: text };
  if (attachments.length) m.images = attachments;
  c.messages.push(m);
  $('input').value = '';
  attachments = []; renderAttachments();
  save();
  generate(c);
}

function stop() { if (controller) controller.abort(); }

function openSettings() {
  const f = $('settings-form');
  for (const k of Object.keys(defaults)) f.elements[k].value = settings[k];
  $('settings-error').textContent = '';
  $('settings').showModal();
}

function saveSettings(e) {
  e.preventDefault();
  const f = $('settings-form');
  const next = {};
  for (const k of Object.keys(defaults)) {
    // The numbers are kept as numbers (an empty field as ''), as the
    // defaults are.
    const v = f.elements[k].value;
    next[k] = typeof defaults[k] === 'number' && v.trim() !== '' ? Number(v) : v;
  }
  if (next.extra.trim()) {
    try {
      const v = JSON.parse(next.extra);
      if (typeof v !== 'object' || Array.isArray(v) || v === null) throw new Error('not an object');
    } catch (err) {
      $('settings-error').textContent = 'Extra request fields: not a JSON object (' + err.message + ')';
      return;
    }
  }
  settings = next;
  store.set('settings', settings);
  $('settings').close();
}

function exportAll() {
  const blob = new Blob([JSON.stringify({ conversations }, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'llamafile-conversations.json';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function importAll(file) {
  try {
    const data = JSON.parse(await file.text());
    const list = Array.isArray(data) ? data : data.conversations;
    if (!Array.isArray(list)) throw new Error('no "conversations" list');
    for (const c of list) {
      if (!c || !Array.isArray(c.messages)) throw new Error('a conversation without "messages"');
      c.id = c.id || newID();
      c.title = String(c.title || 'Imported');
      if (!conversations.some(x => x.id === c.id)) conversations.push(c);
    }
    save(); renderAll();
  } catch (e) {
    alert('Import failed: ' + e.message);
  }
}

function init() {
  $('form').addEventListener('submit', e => { e.preventDefault(); send(); });
  $('input').addEventListener('keydown', e => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  document.addEventListener('keydown', e => { if (e.key === 'Escape' && controller) { e.preventDefault(); stop(); } });
  $('stop').addEventListener('click', stop);
  $('new-chat').addEventListener('click', () => { if (!controller) { newConversation(); renderAll(); $('input').focus(); } });
  $('open-settings').addEventListener('click', openSettings);
  $('settings-form').addEventListener('submit', saveSettings);
  $('settings-cancel').addEventListener('click', () => $('settings').close());
  $('export').addEventListener('click', exportAll);
  $('import').addEventListener('change', e => { if (e.target.files[0]) importAll(e.target.files[0]); e.target.value = ''; });
  $('attach').addEventListener('click', () => $('image-file').click());
  $('image-file').addEventListener('change', e => { attach([...e.target.files]); e.target.value = ''; });
  $('input').addEventListener('paste', e => {
    const files = [...(e.clipboardData?.files || [])].filter(f => f.type.startsWith('image/'));
    if (props.vision && files.length) { e.preventDefault(); attach(files); }
  });
  $('open-sidebar').addEventListener('click', () => document.body.classList.add('side-open'));
  $('close-sidebar').addEventListener('click', () => document.body.classList.remove('side-open'));
  renderAll();
  loadProps().then(renderLog);
  $('input').focus();
}

init();
