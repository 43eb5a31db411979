// TeX math to MathML, which browsers render natively (MathML Core), so the
// page needs no math library or font. It covers what models write in
// answers: numbers, identifiers and operators, ^ and _, \frac, \sqrt,
// \left...\right, Greek letters, the common symbols, big operators with
// limits, accents, \text and font commands, \begin{matrix} and friends.
// Every character of the source becomes a text node of an element made
// here, never markup, so math cannot inject anything either. Anything
// unknown shows as itself, in the class "unknown".

const NS = 'http://www.w3.org/1998/Math/MathML';

const node = (tag, text) => {
  const e = document.createElementNS(NS, tag);
  if (text !== undefined) e.textContent = text;
  return e;
};

const wrap = (tag, ...kids) => {
  const e = node(tag);
  for (const k of kids) e.append(k);
  return e;
};

const greek = {
  alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ϵ', varepsilon: 'ε', zeta: 'ζ', eta: 'η',
  theta: 'θ', vartheta: 'ϑ', iota: 'ι', kappa: 'κ', lambda: 'λ', mu: 'μ', nu: 'ν', xi: 'ξ', pi: 'π',
  varpi: 'ϖ', rho: 'ρ', varrho: 'ϱ', sigma: 'σ', varsigma: 'ς', tau: 'τ', upsilon: 'υ', phi: 'ϕ',
  varphi: 'φ', chi: 'χ', psi: 'ψ', omega: 'ω', Gamma: 'Γ', Delta: 'Δ', Theta: 'Θ', Lambda: 'Λ',
  Xi: 'Ξ', Pi: 'Π', Sigma: 'Σ', Upsilon: 'Υ', Phi: 'Φ', Psi: 'Ψ', Omega: 'Ω',
};

const symbols = {
  // relations and arrows
  leq: '≤', le: '≤', geq: '≥', ge: '≥', neq: '≠', ne: '≠', approx: '≈', equiv: '≡', sim: '∼',
  simeq: '≃', cong: '≅', propto: '∝', ll: '≪', gg: '≫', in: '∈', notin: '∉', ni: '∋', subset: '⊂',
  supset: '⊃', subseteq: '⊆', supseteq: '⊇', to: '→', rightarrow: '→', leftarrow: '←', gets: '←',
  Rightarrow: '⇒', Leftarrow: '⇐', leftrightarrow: '↔', Leftrightarrow: '⇔', iff: '⟺', implies: '⟹',
  mapsto: '↦', uparrow: '↑', downarrow: '↓', perp: '⊥', parallel: '∥', mid: '∣',
  // operators
  pm: '±', mp: '∓', times: '×', div: '÷', cdot: '⋅', ast: '∗', star: '⋆', circ: '∘', bullet: '∙',
  oplus: '⊕', otimes: '⊗', cup: '∪', cap: '∩', setminus: '∖', wedge: '∧', land: '∧', vee: '∨',
  lor: '∨', neg: '¬', lnot: '¬', forall: '∀', exists: '∃', nexists: '∄', partial: '∂', nabla: '∇',
  // others
  infty: '∞', emptyset: '∅', varnothing: '∅', ldots: '…', dots: '…', cdots: '⋯', vdots: '⋮',
  ddots: '⋱', prime: '′', angle: '∠', triangle: '△', hbar: 'ℏ', ell: 'ℓ', Re: 'ℜ', Im: 'ℑ',
  aleph: 'ℵ', degree: '°', langle: '⟨', rangle: '⟩', lfloor: '⌊', rfloor: '⌋', lceil: '⌈',
  rceil: '⌉', vert: '|', Vert: '‖', '{': '{', '}': '}', '|': '‖', '%': '%', '$': '$', '#': '#',
  '&': '&', _: '_',
};

// Big operators: limits go under and over them in display math.
const bigOps = {
  sum: '∑', prod: '∏', coprod: '∐', int: '∫', iint: '∬', iiint: '∭', oint: '∮', bigcup: '⋃',
  bigcap: '⋂', bigoplus: '⨁', bigotimes: '⨂', lim: 'lim', max: 'max', min: 'min', sup: 'sup',
  inf: 'inf', limsup: 'lim sup', liminf: 'lim inf', argmax: 'arg max', argmin: 'arg min',
};

const functions = new Set(['sin', 'cos', 'tan', 'cot', 'sec', 'csc', 'arcsin', 'arccos', 'arctan',
  'sinh', 'cosh', 'tanh', 'log', 'ln', 'exp', 'det', 'dim', 'ker', 'deg', 'gcd', 'Pr', 'arg', 'mod']);

const accents = { hat: '^', widehat: '^', bar: '¯', overline: '¯', vec: '→', dot: '˙', ddot: '¨', tilde: '~', widetilde: '~' };

// Font commands. MathML Core renders only mathvariant="normal", so the
// letter styles are Unicode's mathematical alphanumerics (the offsets of
// their A, a and 0 from ASCII, with the letters Unicode has elsewhere),
// and bold, sans-serif and monospace are CSS classes.
const letterStyles = {
  mathbb: { A: 0x1d538, a: 0x1d552, d: 0x1d7d8, holes: { C: 'ℂ', H: 'ℍ', N: 'ℕ', P: 'ℙ', Q: 'ℚ', R: 'ℝ', Z: 'ℤ' } },
  mathcal: { A: 0x1d49c, a: 0x1d4b6, holes: { B: 'ℬ', E: 'ℰ', F: 'ℱ', H: 'ℋ', I: 'ℐ', L: 'ℒ', M: 'ℳ', R: 'ℛ', e: 'ℯ', g: 'ℊ', o: 'ℴ' } },
  mathscr: { A: 0x1d49c, a: 0x1d4b6, holes: { B: 'ℬ', E: 'ℰ', F: 'ℱ', H: 'ℋ', I: 'ℐ', L: 'ℒ', M: 'ℳ', R: 'ℛ', e: 'ℯ', g: 'ℊ', o: 'ℴ' } },
  mathfrak: { A: 0x1d504, a: 0x1d51e, holes: { C: 'ℭ', H: 'ℌ', I: 'ℑ', R: 'ℜ', Z: 'ℨ' } },
};
const fontClasses = { mathbf: 'bold', boldsymbol: 'bold', mathsf: 'sans', mathtt: 'mono' };
const uprightFonts = new Set(['mathrm', 'operatorname', 'mathup']);

function styleLetter(c, st) {
  if (st.holes[c]) return st.holes[c];
  if (c >= 'A' && c <= 'Z') return String.fromCodePoint(st.A + c.charCodeAt(0) - 65);
  if (c >= 'a' && c <= 'z') return String.fromCodePoint(st.a + c.charCodeAt(0) - 97);
  if (st.d && c >= '0' && c <= '9') return String.fromCodePoint(st.d + c.charCodeAt(0) - 48);
  return c;
}

const spaces = { ',': '0.167em', ':': '0.222em', ';': '0.278em', '!': '-0.167em', quad: '1em', qquad: '2em', ' ': '0.25em' };

const matrices = { matrix: null, pmatrix: ['(', ')'], bmatrix: ['[', ']'], Bmatrix: ['{', '}'], vmatrix: ['|', '|'], Vmatrix: ['‖', '‖'], cases: ['{', null], aligned: null, align: null, 'align*': null, array: null, gathered: null };

// A parser over one formula's source.
class Parser {
  constructor(src, display) {
    this.s = src;
    this.i = 0;
    this.display = display;
  }

  // parse returns the mrow of everything up to the end, or to stop (a
  // string such as '}' or '\\right') which it does not consume.
  row(stop) {
    const row = node('mrow');
    for (;;) {
      this.skipSpace();
      if (this.i >= this.s.length) break;
      if (stop && stop.some(t => this.s.startsWith(t, this.i))) break;
      const atom = this.atom();
      if (atom) row.append(this.scripts(atom));
    }
    return row;
  }

  skipSpace() {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  // group parses {...}, or a single atom when there are no braces.
  group() {
    this.skipSpace();
    if (this.s[this.i] === '{') {
      this.i++;
      const r = this.row(['}']);
      this.i++;
      return r;
    }
    return this.atom() || node('mrow');
  }

  // rawGroup returns the text of {...} as it is (for \text).
  rawGroup() {
    this.skipSpace();
    if (this.s[this.i] !== '{') return this.s[this.i++] || '';
    let depth = 0, start = ++this.i;
    for (; this.i < this.s.length; this.i++) {
      if (this.s[this.i] === '{') depth++;
      else if (this.s[this.i] === '}' && depth-- === 0) break;
    }
    return this.s.slice(start, this.i++);
  }

  // scripts attaches ^ and _ that follow base.
  scripts(base) {
    let sub = null, sup = null;
    for (;;) {
      this.skipSpace();
      const c = this.s[this.i];
      if (c === '^' && !sup) { this.i++; sup = this.group(); }
      else if (c === '_' && !sub) { this.i++; sub = this.group(); }
      else if (c === "'" && !sup) {
        let primes = '';
        while (this.s[this.i] === "'") { primes += '′'; this.i++; }
        sup = node('mo', primes);
      } else break;
    }
    if (!sub && !sup) return base;
    const limits = this.display && base.dataset && base.dataset.limits === 'true';
    if (sub && sup) return wrap(limits ? 'munderover' : 'msubsup', base, sub, sup);
    if (sub) return wrap(limits ? 'munder' : 'msub', base, sub);
    return wrap(limits ? 'mover' : 'msup', base, sup);
  }

  atom() {
    const s = this.s;
    const c = s[this.i];
    if (c === '{') { this.i++; const r = this.row(['}']); this.i++; return r; }
    if (c === '}') { this.i++; return null; } // stray
    if (c === '\\') return this.command();
    if (c === '&') { this.i++; return null; } // handled by environments
    let m;
    if ((m = /^\d+(\.\d+)?/.exec(s.slice(this.i)))) { this.i += m[0].length; return node('mn', m[0]); }
    this.i++;
    if (/[A-Za-z\u0370-\u03ff]/.test(c)) return node('mi', c);
    if (c === '~') return this.space('0.25em');
    if ('+-=<>()[]|/,;:!?.*'.includes(c) || c === '−') return node('mo', c === '-' ? '−' : c);
    return node('mi', c);
  }

  space(width) {
    const e = node('mspace');
    e.setAttribute('width', width);
    return e;
  }

  command() {
    const s = this.s;
    this.i++;
    let name = /^[A-Za-z]+\*?/.exec(s.slice(this.i));
    name = name ? name[0] : s[this.i] || '';
    this.i += name.length;
    if (name === '\\') return null; // a line break: rows end in environments
    if (name in greek) {
      const g = node('mi', greek[name]);
      if (/^[A-Z]/.test(name)) g.setAttribute('mathvariant', 'normal'); // capitals upright, as TeX sets them
      return g;
    }
    if (name in symbols) return node('mo', symbols[name]);
    if (name in spaces) return this.space(spaces[name]);
    if (name in bigOps) {
      const op = node(/^[a-z]/.test(bigOps[name]) ? 'mi' : 'mo', bigOps[name]);
      if (/^[a-z]/.test(bigOps[name])) op.setAttribute('mathvariant', 'normal');
      else op.setAttribute('largeop', 'true');
      if (!name.includes('int')) op.dataset.limits = 'true';
      if (this.s.startsWith('\\limits', this.i)) { this.i += 7; op.dataset.limits = 'true'; }
      return op;
    }
    if (functions.has(name)) {
      const f = node('mi', name);
      f.setAttribute('mathvariant', 'normal');
      return f;
    }
    switch (name) {
      case 'frac': case 'dfrac': case 'tfrac': return wrap('mfrac', this.group(), this.group());
      case 'binom': {
        const f = wrap('mfrac', this.group(), this.group());
        f.setAttribute('linethickness', '0');
        return wrap('mrow', node('mo', '('), f, node('mo', ')'));
      }
      case 'sqrt': {
        this.skipSpace();
        if (s[this.i] === '[') {
          this.i++;
          const index = this.row([']']);
          this.i++;
          return wrap('mroot', this.group(), index);
        }
        return wrap('msqrt', this.group());
      }
      case 'text': case 'textrm': case 'textit': case 'mbox':
        return node('mtext', this.rawGroup());
      case 'textbf': { const t = node('mtext', this.rawGroup()); t.setAttribute('class', 'bold'); return t; }
      case 'left': case 'right': case 'big': case 'Big': case 'bigg': case 'Bigg': case 'bigl': case 'bigr': case 'Bigl': case 'Bigr': {
        const d = this.delimiter();
        if (name !== 'left') return d ? node('mo', d) : null;
        const inner = this.row(['\\right']);
        const row = node('mrow');
        if (d) row.append(node('mo', d));
        row.append(inner);
        if (s.startsWith('\\right', this.i)) {
          this.i += 6;
          const r = this.delimiter();
          if (r) row.append(node('mo', r));
        }
        return row;
      }
      case 'begin': return this.environment(this.rawGroup());
      case 'end': this.rawGroup(); return null;
      case 'displaystyle': case 'textstyle': case 'limits': case 'nolimits': return null;
      case 'not': { const next = this.atom(); return next ? node('mo', (next.textContent || '') + '\u0338') : null; }
    }
    if (name in accents) {
      const base = this.group();
      const acc = node('mo', accents[name]);
      acc.setAttribute('stretchy', name.startsWith('wide') || name === 'overline' ? 'true' : 'false');
      const e = wrap('mover', base, acc);
      e.setAttribute('accent', 'true');
      return e;
    }
    if (name === 'underline') return wrap('munder', this.group(), node('mo', '_'));
    if (name in letterStyles || name in fontClasses || uprightFonts.has(name)) {
      const g = this.group();
      const leaves = [g, ...g.querySelectorAll('mi, mn')].filter(e => e.localName === 'mi' || e.localName === 'mn');
      for (const e of leaves) {
        if (name in letterStyles) e.textContent = [...e.textContent].map(c => styleLetter(c, letterStyles[name])).join('');
        if (uprightFonts.has(name) || name in letterStyles) e.setAttribute('mathvariant', 'normal');
      }
      if (name in fontClasses) g.setAttribute('class', fontClasses[name]);
      if (name === 'operatorname' && g.localName === 'mrow') {
        // One identifier, not a product of letters.
        const f = node('mi', g.textContent);
        f.setAttribute('mathvariant', 'normal');
        return f;
      }
      return g;
    }
    const unknown = node('mtext', '\\' + name);
    unknown.setAttribute('class', 'unknown');
    return unknown;
  }

  delimiter() {
    this.skipSpace();
    const s = this.s;
    if (s[this.i] === '.') { this.i++; return ''; }
    if (s[this.i] === '\\') {
      const m = /^\\([A-Za-z]+|.)/.exec(s.slice(this.i));
      if (!m) return '';
      this.i += m[0].length;
      return symbols[m[1]] || m[1];
    }
    return s[this.i++] || '';
  }

  // environment parses the body of \begin{name} up to \end{name} as a
  // table: & separates cells and \\ rows.
  environment(name) {
    if (name.startsWith('array')) this.rawGroup(); // column spec
    const table = node('mtable');
    const end = '\\end{' + name + '}';
    let row = node('mtr');
    for (;;) {
      const cell = node('mtd');
      cell.append(this.row(['&', '\\\\', end]));
      row.append(cell);
      if (this.s.startsWith('&', this.i)) { this.i++; continue; }
      table.append(row);
      if (this.s.startsWith('\\\\', this.i)) { this.i += 2; row = node('mtr'); continue; }
      break;
    }
    if (this.s.startsWith(end, this.i)) this.i += end.length;
    const fence = matrices[name];
    if (!fence) return table;
    const r = node('mrow');
    if (fence[0]) r.append(node('mo', fence[0]));
    r.append(table);
    if (fence[1]) r.append(node('mo', fence[1]));
    return r;
  }
}

// math returns a <math> element for the TeX source; display makes it a
// block with limits above and below big operators.
export function math(src, display) {
  const m = node('math');
  if (display) m.setAttribute('display', 'block');
  const p = new Parser(src, display);
  let body;
  try {
    body = p.row(null);
  } catch {
    body = node('mtext', src);
  }
  // Keep the source, for copying and for screen readers that lack MathML.
  const sem = wrap('semantics', body);
  const ann = node('annotation', src);
  ann.setAttribute('encoding', 'application/x-tex');
  sem.append(ann);
  m.append(sem);
  m.setAttribute('aria-label', src);
  return m;
}
