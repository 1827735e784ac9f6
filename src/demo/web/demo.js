// The simulated DingTalk app: pick who you are, chat with the bot directly or in the class group,
// and watch the bot's replies arrive through the real DingTalk path. Talks to the simulator with
// relative URLs (works behind a path prefix) and a long poll for changes.
import { avatar, clock, el, messageNode } from './message-view.js';

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
const who = () => ({ me: state.me, bot: state.setup.bot, people: state.setup.people });
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
  list.replaceChildren(...messagesOf(state.current).map((m) => messageNode(m, who())));
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
  const node = messageNode(m, who());
  const existing = list.querySelector(`li[data-id="${CSS.escape(m.id)}"]`);
  if (existing) existing.replaceWith(node);
  else list.append(node);
  if (nearBottom || m.from === state.me) list.scrollTop = list.scrollHeight;
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

function preview(m) {
  const sender = m.from === 'bot' ? state.setup.bot.name : person(m.from).name.split(' ')[0];
  const text = m.kind === 'card' && !m.text ? '[AI 卡片]' : m.text.replace(/[*`#>]/g, '').replace(/\s+/g, ' ').trim();
  return `${sender}: ${text.slice(0, 40)}`;
}

main().catch((err) => {
  $('send-error').textContent = `页面加载失败 · The page could not load: ${err.message}`;
  $('send-error').hidden = false;
});
