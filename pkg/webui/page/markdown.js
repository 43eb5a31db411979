import { highlight } from './highlight.js';
import { math } from './math.js';

// Markdown to DOM nodes. Every piece of model text becomes a text node
// (never HTML), so a reply cannot inject markup or script; links are kept
// only for http(s) and mailto URLs. Supported: fenced code blocks (with a
// Copy button), headings, paragraphs, block quotes, ordered and unordered
// lists, tables, horizontal rules, and inline code, bold, italic,
// strikethrough, links, and math as the llama.cpp web UI takes it: $...$ and
// \(...\) inline, $$...$$ and \[...\] displayed (math.js renders it as
// MathML). Code blocks are highlighted by highlight.js (this package's).

// el makes an element of class cls holding text (as a text node).
export const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

// inline appends the inline markup of s to parent.
function inline(parent, s) {
  // Math: $$display$$, \[display\], \(inline\), and $inline$ whose
  // dollars touch the formula and whose closing one is not followed by a
  // digit (so "$5 and $10" stays text).
  const re = /(`+)([\s\S]*?[^`])\1(?!`)|\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|\$([^$\s](?:[^$\n]*[^$\s])?)\$(?!\d)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|~~([^~]+)~~|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0, m;
  while ((m = re.exec(s)) !== null) {
    if (m.index > last) parent.append(s.slice(last, m.index));
    if (m[1]) parent.append(el('code', null, m[2].trim() || m[2]));
    else if (m[3] || m[4]) parent.append(math((m[3] || m[4]).trim(), true));
    else if (m[5] || m[6]) parent.append(math(m[5] || m[6], false));
    else if (m[7] || m[8]) { const b = el('strong'); inline(b, m[7] || m[8]); parent.append(b); }
    else if (m[9] || m[10]) { const i = el('em'); inline(i, m[9] || m[10]); parent.append(i); }
    else if (m[11]) { const d = el('del'); inline(d, m[11]); parent.append(d); }
    else if (m[12]) {
      const url = m[13];
      if (/^(https?:|mailto:)/i.test(url)) {
        const a = el('a');
        a.href = url; a.rel = 'noopener noreferrer'; a.target = '_blank';
        inline(a, m[12]);
        parent.append(a);
      } else {
        parent.append(m[0]);
      }
    }
    last = re.lastIndex;
  }
  if (last < s.length) parent.append(s.slice(last));
}

function cells(line) {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|')) s = s.slice(0, -1);
  return s.split('|').map(c => c.trim());
}

export function codeBlock(code, lang, copy) {
  const wrap = el('div', 'code');
  const bar = el('div', 'code-bar');
  bar.append(el('span', 'lang', lang || 'text'));
  const btn = el('button', 'copy', 'Copy');
  btn.type = 'button';
  btn.setAttribute('aria-label', 'Copy the code');
  btn.addEventListener('click', () => copy(code, btn));
  bar.append(btn);
  const pre = el('pre');
  const c = el('code');
  highlight(c, code, lang);
  if (lang) c.dataset.lang = lang;
  pre.append(c);
  wrap.append(bar, pre);
  return wrap;
}

// render turns markdown text into a DocumentFragment; copy(text, button)
// is called by the Copy buttons of code blocks.
export function render(text, copy) {
  const out = document.createDocumentFragment();
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let i = 0;
  let para = [];
  const flush = () => {
    if (para.length) { const p = el('p'); inline(p, para.join('\n')); out.append(p); para = []; }
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if ((m = /^\s*(```+|~~~+)\s*([\w+#.-]*)/.exec(line))) {
      flush();
      const fence = m[1], lang = m[2];
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) body.push(lines[i++]);
      i++; // the closing fence (or the end: a block still streaming)
      out.append(codeBlock(body.join('\n'), lang, copy));
      continue;
    }
    if ((m = /^\s*(\$\$|\\\[)(.*)$/.exec(line)) && !(m[1] === '$$' && /\$\$\s*\S/.test(m[2]))) {
      // A displayed formula over lines, up to the closing $$ or \] (or
      // the end: one still streaming).
      flush();
      const close = m[1] === '$$' ? '$$' : '\\]';
      const body = [];
      let rest = m[2];
      for (;;) {
        const at = rest.indexOf(close);
        if (at >= 0) { body.push(rest.slice(0, at)); break; }
        body.push(rest);
        if (++i >= lines.length) break;
        rest = lines[i];
      }
      i++;
      const block = el('div', 'math-block');
      block.append(math(body.join('\n').trim(), true));
      out.append(block);
      continue;
    }
    if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
      flush();
      const h = el('h' + Math.min(m[1].length + 2, 6));
      inline(h, m[2]);
      out.append(h);
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { flush(); out.append(el('hr')); i++; continue; }
    if (line.includes('|') && i + 1 < lines.length && /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/.test(lines[i + 1])) {
      flush();
      const table = el('table');
      const thead = el('thead'), tr = el('tr');
      for (const c of cells(line)) { const th = el('th'); inline(th, c); tr.append(th); }
      thead.append(tr);
      table.append(thead);
      const tbody = el('tbody');
      i += 2;
      while (i < lines.length && lines[i].includes('|') && lines[i].trim() !== '') {
        const row = el('tr');
        for (const c of cells(lines[i])) { const td = el('td'); inline(td, c); row.append(td); }
        tbody.append(row);
        i++;
      }
      table.append(tbody);
      const scroll = el('div', 'table');
      scroll.append(table);
      out.append(scroll);
      continue;
    }
    if (/^\s*>/.test(line)) {
      flush();
      const body = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) body.push(lines[i++].replace(/^\s*> ?/, ''));
      const q = el('blockquote');
      q.append(render(body.join('\n'), copy));
      out.append(q);
      continue;
    }
    if ((m = /^\s*([-*+]|\d+[.)])\s+/.exec(line))) {
      flush();
      const ordered = /\d/.test(m[1]);
      const list = el(ordered ? 'ol' : 'ul');
      while (i < lines.length && (m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(lines[i])) && /\d/.test(m[1]) === ordered) {
        const li = el('li');
        inline(li, m[2]);
        list.append(li);
        i++;
      }
      out.append(list);
      continue;
    }
    if (line.trim() === '') { flush(); i++; continue; }
    para.push(line);
    i++;
  }
  flush();
  return out;
}
