// DingTalk-style markdown for the simulator page, built as DOM nodes: text only ever becomes
// text nodes (never innerHTML), so an answer holding HTML shows that HTML as text.
// Subset: paragraphs (single newlines kept), headings, quotes, lists, rules, fenced code,
// **bold**, *italic*, `code`, [links](http…) and @mentions of people the message @s.

const FENCE = /^\s*```/;
const HEADING = /^(#{1,6})\s+(.*)$/;
const RULE = /^\s*(?:-{3,}|\*{3,}|_{3,})\s*$/;
const QUOTE = /^\s*>\s?(.*)$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const INLINE =
  /(`+)([\s\S]*?[^`])\1(?!`)|\*\*(?=\S)([\s\S]*?\S)\*\*|\*(?=[^\s*])([^*]*[^\s*])?\*|!\[([^\]]*)\]\(([^)\s]+)\)|\[([^\]]+)\]\(([^)\s]+)\)|@([\w.-]+)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?，。；：！？）])/g;

/**
 * @param {string} text the markdown
 * @param {{mentions?: Map<string, string>}} options staff id → name for the people the message @s
 * @returns {DocumentFragment}
 */
export function renderMarkdown(text, options = {}) {
  const out = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let paragraph = [];
  const flush = () => {
    if (paragraph.length > 0) out.append(block('p', paragraph, options));
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (FENCE.test(line)) {
      flush();
      const code = [];
      while (++i < lines.length && !FENCE.test(lines[i])) code.push(lines[i]);
      out.append(codeBlock(code.join('\n')));
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      const node = block('p', [heading[2]], options);
      node.className = `md-heading md-h${heading[1].length}`;
      out.append(node);
    } else if (RULE.test(line)) {
      flush();
      out.append(document.createElement('hr'));
    } else if (QUOTE.test(line)) {
      flush();
      const quoted = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i++) quoted.push(QUOTE.exec(lines[i])[1]);
      i--;
      out.append(block('blockquote', quoted, options));
    } else if (BULLET.test(line) || NUMBERED.test(line)) {
      flush();
      i = list(lines, i, out, options) - 1;
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return out;
}

/** A list from line `start`; returns the index of the first line after it. */
function list(lines, start, out, options) {
  const numbered = NUMBERED.exec(lines[start]);
  const node = document.createElement(numbered ? 'ol' : 'ul');
  if (numbered && numbered[1] !== '1') node.start = Number(numbered[1]);
  const pattern = numbered ? NUMBERED : BULLET;
  let i = start;
  for (; i < lines.length; i++) {
    const m = pattern.exec(lines[i]);
    if (!m) break;
    const item = document.createElement('li');
    item.append(inline(numbered ? m[2] : m[1], options, 0));
    node.append(item);
  }
  out.append(node);
  return i;
}

function block(tag, lines, options) {
  const node = document.createElement(tag);
  lines.forEach((line, n) => {
    if (n > 0) node.append(document.createElement('br'));
    node.append(inline(line, options, 0));
  });
  return node;
}

function codeBlock(text) {
  const pre = document.createElement('pre');
  const code = document.createElement('code');
  code.textContent = text;
  pre.append(code);
  return pre;
}

/** Inline marks of one line; everything else stays text. */
function inline(text, options, depth) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    out.append(document.createTextNode(text.slice(last, m.index)));
    out.append(inlineNode(m, options, depth));
    last = m.index + m[0].length;
  }
  out.append(document.createTextNode(text.slice(last)));
  return out;
}

function inlineNode(m, options, depth) {
  const [whole, , code, bold, italic, alt, imageUrl, label, url, mention, bare] = m;
  const nested = (tag, inner) => {
    const node = document.createElement(tag);
    node.append(depth < 3 ? inline(inner, options, depth + 1) : document.createTextNode(inner));
    return node;
  };
  if (code !== undefined) {
    const node = document.createElement('code');
    node.textContent = code;
    return node;
  }
  if (bold !== undefined) return nested('strong', bold);
  if (italic !== undefined) return nested('em', italic);
  if (imageUrl !== undefined) return link(`🖼 ${alt || '图片 image'}`, imageUrl) ?? document.createTextNode(whole);
  if (url !== undefined) return link(label, url) ?? document.createTextNode(whole);
  if (mention !== undefined) {
    const name = options.mentions?.get(mention);
    if (!name) return document.createTextNode(whole);
    const node = document.createElement('span');
    node.className = 'mention';
    node.textContent = `@${name}`;
    return node;
  }
  return link(bare, bare) ?? document.createTextNode(whole);
}

/** A link only to http(s) addresses; anything else (javascript:, data:) stays text. */
function link(label, href) {
  let url;
  try {
    url = new URL(href);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const a = document.createElement('a');
  a.href = url.href;
  a.textContent = label;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}
