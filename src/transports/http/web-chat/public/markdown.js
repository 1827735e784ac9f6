// A small, safe Markdown renderer for answers. Everything is HTML-escaped first; only then
// are a few constructs turned into tags this file writes itself: paragraphs, line breaks,
// headings, lists, quotes, bold, italic, inline code, fenced code blocks and http(s) links.
// No HTML in an answer ever reaches the page as HTML.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// Private-use characters mark code spans and links while the rest is transformed.
const MARKERS = /[\uE000-\uE003]/g;
const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)\s*$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const BLANK = /^\s*$/;

/** Returns HTML for `source`; safe to assign to innerHTML. */
export function renderMarkdown(source) {
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').replace(MARKERS, '').split('\n');
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (BLANK.test(line)) {
      i++;
    } else if (FENCE.test(line)) {
      i = codeBlock(lines, i, out);
    } else if (HEADING.test(line)) {
      const [, hashes, text] = HEADING.exec(line);
      const tag = hashes.length <= 2 ? 'h3' : 'h4';
      out.push(`<${tag}>${inline(text)}</${tag}>`);
      i++;
    } else if (ITEM.test(line)) {
      i = list(lines, i, out);
    } else if (QUOTE.test(line)) {
      const quoted = [];
      while (i < lines.length && QUOTE.test(lines[i])) quoted.push(QUOTE.exec(lines[i++])[1]);
      out.push(`<blockquote><p>${inline(quoted.join('\n'))}</p></blockquote>`);
    } else {
      const para = [];
      while (i < lines.length && !BLANK.test(lines[i]) && !FENCE.test(lines[i]) && !HEADING.test(lines[i]) && !ITEM.test(lines[i]) && !QUOTE.test(lines[i])) {
        para.push(lines[i++]);
      }
      out.push(`<p>${inline(para.join('\n'))}</p>`);
    }
  }
  return out.join('');
}

function codeBlock(lines, start, out) {
  const [, marker, lang] = FENCE.exec(lines[start]);
  const body = [];
  let i = start + 1;
  while (i < lines.length && !(lines[i].trim().startsWith(marker[0].repeat(marker.length)) && lines[i].trim().replace(/[`~]/g, '') === '')) {
    body.push(lines[i++]);
  }
  const cls = lang ? ` class="language-${escapeHtml(lang)}"` : '';
  out.push(`<pre><code${cls}>${escapeHtml(body.join('\n'))}</code></pre>`);
  return i + 1; // past the closing fence (or the end of an unclosed block)
}

function list(lines, start, out) {
  const ordered = /\d/.test(ITEM.exec(lines[start])[1]);
  const items = [];
  let i = start;
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]);
    if (m && /\d/.test(m[1]) === ordered) {
      items.push([m[2]]);
      i++;
    } else if (items.length > 0 && /^\s{2,}\S/.test(lines[i]) && !ITEM.test(lines[i])) {
      items[items.length - 1].push(lines[i].trim()); // a continuation line of the item
      i++;
    } else {
      break;
    }
  }
  const tag = ordered ? 'ol' : 'ul';
  out.push(`<${tag}>${items.map((parts) => `<li>${inline(parts.join('\n'))}</li>`).join('')}</${tag}>`);
  return i;
}

/** Inline constructs of one block: code spans and links are set aside before escaping. */
function inline(text) {
  const codes = [];
  const links = [];
  let s = text.replace(/`([^`\n]+)`/g, (_, code) => `\uE000${codes.push(code) - 1}\uE001`);
  s = s.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s()<>"']+)\)/g, (_, label, url) => `\uE002${links.push({ label, url }) - 1}\uE003`);
  s = emphasis(escapeHtml(s)).replace(/\n/g, '<br>');
  s = s.replace(/\uE002(\d+)\uE003/g, (_, n) => {
    const { label, url } = links[Number(n)];
    return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer nofollow">${emphasis(escapeHtml(label))}</a>`;
  });
  return s.replace(/\uE000(\d+)\uE001/g, (_, n) => `<code>${escapeHtml(codes[Number(n)])}</code>`);
}

/** Bold and italic on already-escaped text (the markers `*` and `_` are never escaped). */
function emphasis(s) {
  return s
    .replace(/\*\*(?=\S)([^*]*?\S)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^\w])__(?=\S)([^_]*?\S)__(?![\w])/g, '$1<strong>$2</strong>')
    .replace(/\*(?=[^\s*])([^*]*?[^\s*])\*/g, '<em>$1</em>')
    .replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_])_(?![\w])/g, '$1<em>$2</em>');
}
