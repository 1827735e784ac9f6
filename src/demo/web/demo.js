// The simulated DingTalk app: pick who you are, chat with the bot directly or in the class group,
// and watch the bot's replies arrive through the real DingTalk path. Talks to the simulator with
// relative URLs (works behind a path prefix) and a long poll for changes.
import { renderMarkdown } from './markdown.js';

const state = {
  setup: null,
  me: '',
  current: '',
  rev: 0,
  online: false,
  /** @type {Map<string, any>} */
  messages: new Map(),
  unread: new Map(),
};
const $ = (id) => document.getElementById(id);
const STATUS = {
  processing: '思考中 · Thinking',
  inputing: '输入中 · Typing',
  executing: '执行中 · Working',
  finished: '已完成 · Done',
  failed: '失败 · Failed',
};
const VIA = { webhook: 'sessionWebhook', 'group-send': 'OpenAPI 群消息', 'oto-send': 'OpenAPI 单聊', card: 'AI 卡片 · AI card' };

async function main() {
  state.setup = await getJson('demo-api/setup');
  const { people } = state.setup;
  state.me = people.some((p) => p.id === localStorage.getItem('demo.me')) ? localStorage.getItem('demo.me') : people[0].id;
  state.current = localStorage.getItem('demo.chat') === 'direct' ? directId() : groupId();
  fillIdentityPicker();
  showSetupNotes();
  // Wide screens have room to show the wire log next to the chat.
  $('wire-details').open = window.matchMedia('(min-width: 1101px)').matches;
  bindComposer();
  renderAll();
  void poll();
}

// ---- data -------------------------------------------------------------------------------

async function getJson(url, init) {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

async function poll() {
  for (;;) {
    try {
      apply(await getJson(`demo-api/updates?since=${state.rev}`));
      $('offline').hidden = true;
    } catch {
      $('offline').hidden = false;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

function apply(changes) {
  const firstLoad = state.rev === 0;
  state.rev = changes.rev;
  if (state.online !== changes.online) {
    state.online = changes.online;
    renderHeader();
  }
  for (const m of changes.messages) {
    const known = state.messages.has(m.id);
    state.messages.set(m.id, m);
    if (m.conversationId === state.current) upsertMessage(m);
    else if (!known && !firstLoad && visibleChats().includes(m.conversationId) && m.from !== state.me) {
      state.unread.set(m.conversationId, (state.unread.get(m.conversationId) ?? 0) + 1);
    }
  }
  if (changes.messages.length > 0) renderChatList();
  for (const event of changes.wire) appendWire(event);
}

const person = (id) => state.setup.people.find((p) => p.id === id);
const groupId = () => state.setup.conversations.find((c) => c.kind === 'group').id;
const directId = () => state.setup.conversations.find((c) => c.kind === 'direct' && c.memberIds[0] === state.me).id;
const visibleChats = () => [groupId(), directId()];
const conversation = (id) => state.setup.conversations.find((c) => c.id === id);
const messagesOf = (id) => [...state.messages.values()].filter((m) => m.conversationId === id);

// ---- rendering --------------------------------------------------------------------------

function renderAll() {
  renderChatList();
  renderHeader();
  const list = $('messages');
  list.replaceChildren(...messagesOf(state.current).map(messageNode));
  list.scrollTop = list.scrollHeight;
  renderComposerHints();
}

function renderChatList() {
  const items = visibleChats().map((id) => {
    const c = conversation(id);
    const last = messagesOf(id).at(-1);
    const button = el('button', { type: 'button', className: 'chat-item' });
    if (id === state.current) button.setAttribute('aria-current', 'true');
    button.append(avatar(c.kind === 'group' ? '班' : 'AI', c.kind === 'group' ? 'av-group' : 'av-bot'));
    const text = el('span', { className: 'chat-text' });
    text.append(el('span', { className: 'chat-title', textContent: c.kind === 'group' ? c.title : `${state.setup.bot.name} · 单聊 DM` }));
    text.append(el('span', { className: 'chat-preview', textContent: last ? preview(last) : '' }));
    button.append(text);
    const unread = state.unread.get(id);
    if (unread) button.append(el('span', { className: 'badge', textContent: String(unread), ariaLabel: `${unread} 条未读 unread` }));
    button.addEventListener('click', () => openChat(id));
    const li = el('li');
    li.append(button);
    return li;
  });
  $('chat-list').replaceChildren(...items);
}

function renderHeader() {
  const c = conversation(state.current);
  $('conv-title').textContent = c.kind === 'group' ? c.title : `${state.setup.bot.name}（单聊 · direct chat）`;
  const status = state.online ? '机器人在线（Stream 已连接）· bot online' : '机器人离线（等待 Stream 连接）· bot offline';
  const members = c.kind === 'group' ? `${c.memberIds.length + 1} 人 · members: ${c.memberIds.map((id) => person(id).name).join('、')}、${state.setup.bot.name} · ` : '';
  $('conv-sub').textContent = `${members}${status}`;
}

function renderComposerHints() {
  const inGroup = conversation(state.current).kind === 'group';
  $('mention-bot').hidden = !inGroup;
  $('hint').textContent = inGroup
    ? `群里只有 @${state.setup.bot.name} 的消息会发给机器人（点 ＠ 按钮）。In the group only messages that @ the bot reach it.`
    : '单聊中每条消息都会发给机器人。In a direct chat every message reaches the bot.';
  const prefix = inGroup ? `@${state.setup.bot.name} ` : '';
  const chips = [
    ['什么是光合作用？', `${prefix}什么是光合作用？`],
    ['/help', `${prefix}/help`],
    ['/new', `${prefix}/new`],
    ['长回答 · long answer', `${prefix}请写一篇长回答 please write a long answer`],
    ['演示错误 · demo error', `${prefix}演示错误 demo error`],
  ].map(([label, text]) => {
    const b = el('button', { type: 'button', className: 'chip', textContent: label });
    b.addEventListener('click', () => void send(text));
    return b;
  });
  $('chips').replaceChildren(...chips);
}

function upsertMessage(m) {
  const list = $('messages');
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const node = messageNode(m);
  const existing = list.querySelector(`li[data-id="${CSS.escape(m.id)}"]`);
  if (existing) existing.replaceWith(node);
  else list.append(node);
  if (nearBottom || m.from === state.me) list.scrollTop = list.scrollHeight;
}

function messageNode(m) {
  const fromBot = m.from === 'bot';
  const sender = fromBot ? undefined : person(m.from);
  const li = el('li', { className: `msg${fromBot ? ' from-bot' : ''}${m.from === state.me ? ' mine' : ''}` });
  li.dataset.id = m.id;
  // A card being written is announced once, when it is finished, not at every update.
  if (m.kind === 'card' && !['finished', 'failed'].includes(m.card.status)) li.setAttribute('aria-busy', 'true');
  li.append(fromBot ? avatar('AI', 'av-bot') : avatar(sender.name.slice(0, 1), `av-${state.setup.people.indexOf(sender)}`));
  const body = el('div', { className: 'msg-body' });
  const name = el('div', { className: 'msg-name' });
  name.append(document.createTextNode(fromBot ? state.setup.bot.name : sender.name));
  if (fromBot) name.append(el('span', { className: 'tag', textContent: '机器人 bot' }));
  else if (sender.role === 'teacher') name.append(el('span', { className: 'tag tag-teacher', textContent: '老师 teacher' }));
  name.append(el('time', { className: 'msg-time', textContent: clock(m.createdAt) }));
  body.append(name);
  body.append(m.kind === 'card' ? cardNode(m) : bubble(m));
  const meta = metaLine(m);
  if (meta) body.append(el('div', { className: 'msg-meta', textContent: meta }));
  li.append(body);
  return li;
}

function bubble(m) {
  const node = el('div', { className: 'bubble' });
  if (m.from === 'bot') node.append(renderMarkdown(m.text, { mentions: mentionsOf(m) }));
  else node.append(highlightBotMention(m.text));
  return node;
}

function cardNode(m) {
  const card = el('div', { className: `card card-${m.card.status}` });
  const head = el('div', { className: 'card-head' });
  head.append(el('span', { className: 'card-title', textContent: `${state.setup.bot.name} · AI 卡片` }));
  head.append(el('span', { className: 'card-status', textContent: STATUS[m.card.status] ?? m.card.status }));
  card.append(head);
  const content = el('div', { className: 'card-body' });
  if (m.text) content.append(renderMarkdown(m.text, { mentions: mentionsOf(m) }));
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

function highlightBotMention(text) {
  const out = document.createDocumentFragment();
  const mention = `@${state.setup.bot.name}`;
  text.split(mention).forEach((part, i) => {
    if (i > 0) out.append(el('span', { className: 'mention', textContent: mention }));
    out.append(document.createTextNode(part));
  });
  return out;
}

function mentionsOf(m) {
  return new Map((m.atUserIds ?? []).filter(person).map((id) => [id, person(id).name]));
}

function appendWire(event) {
  const list = $('wire');
  list.append(el('li', { textContent: `${clock(event.at, true)}  [${event.kind}] ${event.detail}` }));
  while (list.children.length > 200) list.firstChild.remove();
}

function fillIdentityPicker() {
  const select = $('me');
  select.replaceChildren(
    ...state.setup.people.map((p) => el('option', { value: p.id, textContent: `${p.name}（${p.role === 'teacher' ? '老师 teacher' : '学生 student'}）` })),
  );
  select.value = state.me;
  select.addEventListener('change', () => {
    const wasDirect = state.current === directId();
    state.me = select.value;
    localStorage.setItem('demo.me', state.me);
    if (wasDirect) state.current = directId();
    state.unread.clear();
    renderAll();
  });
}

function showSetupNotes() {
  const { demoBackend, apiUrl, replyMode } = state.setup;
  const banner = $('banner');
  banner.hidden = !demoBackend;
  banner.textContent = demoBackend
    ? '演示模式：没有配置模型，由内置演示后端回答。接入真实模型请在 .env 设置 OPENAI_BASE_URL、OPENAI_API_KEY、OPENAI_MODEL。Demo mode: no model is configured, the built-in demo backend answers.'
    : '';
  $('api-url').textContent = `HTTP API: ${apiUrl}/assistant/ask · 回复方式 reply mode: ${replyMode}`;
}

function openChat(id) {
  state.current = id;
  state.unread.delete(id);
  localStorage.setItem('demo.chat', id === groupId() ? 'group' : 'direct');
  renderAll();
  $('input').focus();
}

// ---- sending ----------------------------------------------------------------------------

function bindComposer() {
  const input = $('input');
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    void send(input.value);
  });
  input.addEventListener('keydown', (e) => {
    // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition is not a send.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send(input.value);
    }
  });
  $('mention-bot').addEventListener('click', () => {
    const mention = `@${state.setup.bot.name} `;
    if (!input.value.includes(mention.trim())) input.value = mention + input.value;
    input.focus();
  });
}

async function send(text) {
  if (text.trim() === '') return;
  const error = $('send-error');
  try {
    await getJson('demo-api/messages', {
      method: 'POST',
      body: JSON.stringify({ conversationId: state.current, senderId: state.me, text }),
    });
    error.hidden = true;
    if ($('input').value === text) $('input').value = '';
  } catch (err) {
    error.textContent = `没有发出去 · Not sent: ${err.message}`;
    error.hidden = false;
  }
}

// ---- helpers ----------------------------------------------------------------------------

function el(tag, props = {}) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'ariaLabel') node.setAttribute('aria-label', value);
    else if (key === 'ariaHidden') node.setAttribute('aria-hidden', value);
    else node[key] = value;
  }
  return node;
}

function avatar(text, className) {
  return el('span', { className: `avatar ${className}`, textContent: text, ariaHidden: 'true' });
}

function preview(m) {
  const who = m.from === 'bot' ? state.setup.bot.name : person(m.from).name.split(' ')[0];
  const text = m.kind === 'card' && !m.text ? '[AI 卡片]' : m.text.replace(/[*`#>]/g, '').replace(/\s+/g, ' ').trim();
  return `${who}: ${text.slice(0, 40)}`;
}

function clock(ms, seconds = false) {
  return new Date(ms).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}) });
}

main().catch((err) => {
  $('send-error').textContent = `页面加载失败 · The page could not load: ${err.message}`;
  $('send-error').hidden = false;
});
