import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCardMarkdown, toImMarkdown } from '../../src/replies/dingtalk-markdown/dingtalk-markdown.js';
import { segmentsOf } from '../../src/replies/dingtalk-markdown/markdown-segments.js';

const TABLE = ['| 名称 | 公式 | 单位 |', '|:-:|---|---|', '| 力 | F=ma | N |', '| 速度 | v=s/t<br>平均 | m/s |'].join('\n');
const CODE = ['```html', '<div>keep <b>this</b></div>', '| a | b |', '|---|---|', '  - not a list', '```'].join('\n');

describe('DingTalk-safe markdown', () => {
  it('leaves ordinary answers untouched', () => {
    const plain = '光合作用的产物是**葡萄糖**和氧气。\n\n1. 光反应\n2. 暗反应\n\nSee `x < y`.';
    expect(toImMarkdown(plain)).toBe(plain);
    expect(toCardMarkdown(plain)).toBe(plain);
  });

  it('strips HTML tags, turns <br> into a line break and <b> into bold, leaves inline code and non-HTML brackets', () => {
    const text = '第一行<br/>第二行<BR>第三行\n<b>注意</b>：<span style="color:red">红色</span> `<div>` List<T> a < b > c<!-- note -->';
    const out = '第一行  \n第二行  \n第三行\n**注意**：红色 `<div>` List<T> a < b > c';
    expect(toImMarkdown(text)).toBe(out);
    expect(toCardMarkdown(text)).toBe(out);
  });

  it('IM messages: a table becomes one list line per row; cards keep it, with blank lines around', () => {
    const text = `对比如下：\n${TABLE}\n以上。`;
    expect(toImMarkdown(text)).toBe(
      '对比如下：\n\n- **力** · 公式：F=ma；单位：N\n- **速度** · 公式：v=s/t 平均；单位：m/s\n\n以上。',
    );
    expect(toCardMarkdown(text)).toBe(`对比如下：\n\n${TABLE.replace('<br>', ' ')}\n\n以上。`);
  });

  it('IM messages: nested list items become indented lines of their parent item; cards keep the nesting', () => {
    const text = '1. 第一步\n   - 细节a\n   - 细节b\n     - 更细\n2. 第二步';
    expect(toImMarkdown(text)).toBe('1. 第一步  \n\u3000◦ 细节a  \n\u3000◦ 细节b  \n\u3000\u3000◦ 更细\n2. 第二步');
    expect(toCardMarkdown(text)).toBe(text);
  });

  it('never changes a code block, in either form', () => {
    const text = `前言<br>\n\n${CODE}\n\n${TABLE}`;
    for (const out of [toImMarkdown(text), toCardMarkdown(text)]) {
      expect(out).toContain(CODE);
      expect(out).not.toContain('前言<br>');
    }
  });

  it('property: code blocks come out byte for byte, whatever surrounds them', () => {
    const prose = fc.array(fc.constantFrom('text ', '<br>', '<p>', '</div>', '| a | b |\n|---|---|\n| 1 | 2 |\n', '  - nested\n', '- item\n', '\n\n', '`<i>`', '&nbsp;'), { maxLength: 12 }).map((a) => `${a.join('')}\n`);
    const code = fc.array(fc.constantFrom('<br>', '| x |', '  - y', '<b>z</b>', 'plain'), { maxLength: 6 }).map((ls) => `\`\`\`\n${ls.join('\n')}\n\`\`\`\n`);
    const doc = fc.array(fc.oneof(prose, code), { maxLength: 8 }).map((a) => a.join(''));
    const blocks = (s: string) => segmentsOf(s).filter((g) => g.kind === 'code').map((g) => g.text);
    fc.assert(
      fc.property(doc, (t) => {
        expect(blocks(toImMarkdown(t))).toEqual(blocks(t));
        expect(blocks(toCardMarkdown(t))).toEqual(blocks(t));
      }),
      { numRuns: 300 },
    );
  });
});
