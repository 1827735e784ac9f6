// How one message looks: a person's text, the bot's markdown, or an AI card, with who sent it,
// when, and how it travelled. Pure DOM building; text only ever becomes text nodes.
import { renderMarkdown } from './markdown.js';

const STATUS = {
  processing: '思考中 · Thinking',
  inputing: '输入中 · Typing',
  executing: '执行中 · Working',
  finished: '已完成 · Done',
  failed: '失败 · Failed',
};
const VIA = { webhook: 'sessionWebhook', 'group-send': 'OpenAPI 群消息', 'oto-send': 'OpenAPI 单聊', card: 'AI 卡片 · AI card' };

/**
 * @param {any} m the message
 * @param {{me: string, bot: {name: string}, people: any[]}} who
 */
export function messageNode(m, who) {
  const fromBot = m.from === 'bot';
  const person = (id) => who.people.find((p) => p.id === id);
  const sender = fromBot ? undefined : person(m.from);
  const li = el('li', { className: `msg${fromBot ? ' from-bot' : ''}${m.from === who.me ? ' mine' : ''}` });
  li.dataset.id = m.id;
  // A card being written is announced once, when it is finished, not at every update.
  if (m.kind === 'card' && !['finished', 'failed'].includes(m.card.status)) li.setAttribute('aria-busy', 'true');
  li.append(fromBot ? avatar('AI', 'av-bot') : avatar(sender.name.slice(0, 1), `av-${who.people.indexOf(sender)}`));
  const body = el('div', { className: 'msg-body' });
  const name = el('div', { className: 'msg-name' });
  name.append(document.createTextNode(fromBot ? who.bot.name : sender.name));
  if (fromBot) name.append(el('span', { className: 'tag', textContent: '机器人 bot' }));
  else if (sender.role === 'teacher') name.append(el('span', { className: 'tag tag-teacher', textContent: '老师 teacher' }));
  name.append(el('time', { className: 'msg-time', textContent: clock(m.createdAt) }));
  body.append(name);
  body.append(m.kind === 'card' ? cardNode(m, who) : bubble(m, who));
  const meta = metaLine(m);
  if (meta) body.append(el('div', { className: 'msg-meta', textContent: meta }));
  li.append(body);
  return li;
}

function bubble(m, who) {
  const node = el('div', { className: 'bubble' });
  if (m.from === 'bot') node.append(renderMarkdown(m.text, { mentions: mentionsOf(m, who) }));
  else node.append(highlightBotMention(m.text, who));
  return node;
}

function cardNode(m, who) {
  const card = el('div', { className: `card card-${m.card.status}` });
  const head = el('div', { className: 'card-head' });
  head.append(el('span', { className: 'card-title', textContent: `${who.bot.name} · AI 卡片` }));
  head.append(el('span', { className: 'card-status', textContent: STATUS[m.card.status] ?? m.card.status }));
  card.append(head);
  const content = el('div', { className: 'card-body' });
  if (m.text) content.append(renderMarkdown(m.text, { mentions: mentionsOf(m, who) }));
  else content.append(el('span', { className: 'thinking', textContent: '思考中… · thinking…' }));
  if (m.card.status === 'inputing') {
    // The typing cursor sits at the end of the last paragraph, as in DingTalk.
    const last = content.lastElementChild && ['P', 'LI'].includes(content.lastElementChild.tagName) ? content.lastElementChild : content;
    last.append(el('span', { className: 'cursor', ariaHidden: 'true', textContent: '▍' }));
  }
  card.append(content);
  return card;
}

function metaLine(m) {
  if (m.from === 'bot') return `via ${VIA[m.via] ?? m.via}${m.card ? ` · ${m.card.updates} 次更新 updates` : ''}`;
  if (!m.toBot) return '未 @ 机器人，机器人收不到 · not sent to the bot';
  if (m.delivery === 'acked') return '✓ 机器人已确认收到（ack）· acked by the bot';
  if (m.delivery === 'sent') return '已推送到 Stream · pushed on the Stream socket';
  return '等待机器人连接… · waiting for the bot to connect';
}

function highlightBotMention(text, who) {
  const out = document.createDocumentFragment();
  const mention = `@${who.bot.name}`;
  text.split(mention).forEach((part, i) => {
    if (i > 0) out.append(el('span', { className: 'mention', textContent: mention }));
    out.append(document.createTextNode(part));
  });
  return out;
}

function mentionsOf(m, who) {
  const names = new Map(who.people.map((p) => [p.id, p.name]));
  return new Map((m.atUserIds ?? []).filter((id) => names.has(id)).map((id) => [id, names.get(id)]));
}

export function el(tag, props = {}) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'ariaLabel') node.setAttribute('aria-label', value);
    else if (key === 'ariaHidden') node.setAttribute('aria-hidden', value);
    else node[key] = value;
  }
  return node;
}

export function avatar(text, className) {
  return el('span', { className: `avatar ${className}`, textContent: text, ariaHidden: 'true' });
}

export function clock(ms, seconds = false) {
  return new Date(ms).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}) });
}
