// A small syntax highlighter for code blocks: comments, strings, numbers
// and keywords of common languages become spans (text nodes inside, never
// HTML), so it cannot inject markup either.

const kw = words => new Set(words.split(' '));
const C_LIKE = 'if else for while do switch case default break continue return goto sizeof typedef struct union enum const static extern volatile register inline void char short int long float double signed unsigned bool true false NULL nullptr class public private protected virtual override template typename namespace using new delete this try catch throw final';
const LANGS = {
  go: { kw: kw('break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var true false nil iota byte rune string int int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 float32 float64 error any bool make new len cap append'), line: '//', block: ['/*', '*/'], quotes: '"\'`' },
  js: { kw: kw('async await break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof let new null of return static super switch this throw true try typeof undefined var void while with yield interface type enum implements readonly'), line: '//', block: ['/*', '*/'], quotes: '"\'`' },
  python: { kw: kw('and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield self print'), line: '#', quotes: '"\'' },
  c: { kw: kw(C_LIKE + ' include define ifdef ifndef endif std auto'), line: '//', block: ['/*', '*/'], quotes: '"\'' },
  rust: { kw: kw('as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while Some None Ok Err'), line: '//', block: ['/*', '*/'], quotes: '"' },
  java: { kw: kw(C_LIKE + ' package import extends implements interface instanceof super synchronized var String'), line: '//', block: ['/*', '*/'], quotes: '"\'' },
  bash: { kw: kw('if then else elif fi for while until do done case esac function in return export local echo exit set'), line: '#', quotes: '"\'' },
  sql: { kw: kw('select from where and or not insert into values update set delete create table drop alter join left right inner outer on group by order having limit as distinct null is primary key SELECT FROM WHERE AND OR NOT INSERT INTO VALUES UPDATE SET DELETE CREATE TABLE DROP ALTER JOIN LEFT RIGHT INNER OUTER ON GROUP BY ORDER HAVING LIMIT AS DISTINCT NULL IS PRIMARY KEY'), line: '--', quotes: '\'"' },
  json: { kw: kw('true false null'), quotes: '"' },
};
const ALIASES = { javascript: 'js', ts: 'js', typescript: 'js', jsx: 'js', tsx: 'js', py: 'python', golang: 'go', cpp: 'c', 'c++': 'c', h: 'c', hpp: 'c', cs: 'java', csharp: 'java', kotlin: 'java', sh: 'bash', shell: 'bash', zsh: 'bash', rs: 'rust' };

export function languageOf(name) {
  name = (name || '').toLowerCase();
  return LANGS[ALIASES[name] || name] ? (ALIASES[name] || name) : '';
}

// highlight fills the element code with the text of src, highlighted as
// language lang (its text alone when the language is unknown).
export function highlight(code, src, lang) {
  const L = LANGS[languageOf(lang)];
  if (!L) { code.textContent = src; return; }
  const span = (cls, text) => { const s = document.createElement('span'); s.className = 'tok-' + cls; s.textContent = text; code.append(s); };
  let i = 0, plain = '';
  const flush = () => { if (plain) { code.append(plain); plain = ''; } };
  while (i < src.length) {
    const rest = src.slice(i);
    if (L.line && rest.startsWith(L.line)) {
      const end = src.indexOf('\n', i);
      const j = end < 0 ? src.length : end;
      flush(); span('comment', src.slice(i, j)); i = j; continue;
    }
    if (L.block && rest.startsWith(L.block[0])) {
      const end = src.indexOf(L.block[1], i + L.block[0].length);
      const j = end < 0 ? src.length : end + L.block[1].length;
      flush(); span('comment', src.slice(i, j)); i = j; continue;
    }
    const c = src[i];
    if (L.quotes.includes(c)) {
      let j = i + 1;
      while (j < src.length && src[j] !== c && (c === '`' || src[j] !== '\n')) j += src[j] === '\\' ? 2 : 1;
      j = Math.min(j + 1, src.length);
      flush(); span('string', src.slice(i, j)); i = j; continue;
    }
    const num = /^(0x[0-9a-fA-F_]+|\d[\d_]*(\.\d+)?([eE][-+]?\d+)?)/.exec(rest);
    if (num && !/[\w$]/.test(src[i - 1] || '')) { flush(); span('number', num[0]); i += num[0].length; continue; }
    const word = /^[A-Za-z_$][\w$]*/.exec(rest);
    if (word) {
      if (L.kw.has(word[0])) { flush(); span('keyword', word[0]); } else plain += word[0];
      i += word[0].length;
      continue;
    }
    plain += c; i++;
  }
  flush();
}
