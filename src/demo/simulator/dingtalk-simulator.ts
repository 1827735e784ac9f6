import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ChatRoom, RoomMessage } from '../chat/chat-room.js';
import { SimCardApi } from './sim-card-api.js';
import { sendDingError, type SimCredentials } from './sim-replies.js';
import { SimRobotApi } from './sim-robot-api.js';
import { SimStreamGateway } from './sim-stream-gateway.js';
import { SimTokens } from './sim-tokens.js';

/**
 * Made-up app credentials, new for each simulator: the demo gives them to the service and the
 * simulator checks them, so nothing that looks like a secret needs to live in the source.
 */
function demoCredentials(): SimCredentials {
  return { appKey: `dingdemo${randomBytes(6).toString('hex')}`, appSecret: randomBytes(24).toString('base64url') };
}

export interface SimulatorOptions {
  readonly room: ChatRoom;
  /** `http://127.0.0.1:<port>`: where the service reaches the simulator (its DINGTALK_API_BASE). */
  readonly baseUrl: () => string;
  readonly credentials?: SimCredentials;
  /** SYSTEM ping interval on the Stream socket (default 30 s). */
  readonly pingIntervalMs?: number;
}

/** A person's message was refused before it reached DingTalk (the page shows `message`). */
export class SayError extends Error {}

/**
 * A local DingTalk: the token endpoint, the Stream gateway and socket, the robot's reply paths
 * and the AI-card endpoints, all showing their effects in one ChatRoom. `say` is what the
 * DingTalk app does when a person sends a message: it shows it, and pushes it to the bot over
 * the Stream socket when DingTalk would (every direct message; group messages that @ the bot).
 */
export class DingTalkSimulator {
  readonly credentials: SimCredentials;
  private readonly gateway: SimStreamGateway;
  private readonly robot: SimRobotApi;
  private readonly cards: SimCardApi;
  private readonly tokens: SimTokens;

  constructor(private readonly options: SimulatorOptions) {
    const { room } = options;
    const credentials = (this.credentials = options.credentials ?? demoCredentials());
    const wire = (kind: string, detail: string) => room.wire(kind, detail);
    this.tokens = new SimTokens(credentials, wire);
    this.gateway = new SimStreamGateway({
      credentials,
      wire,
      socketBase: () => options.baseUrl().replace(/^http/, 'ws'),
      onDelivery: (messageId, state) => room.setDelivery(messageId, state),
      onOnlineChange: (online) => room.setOnline(online),
      pingIntervalMs: options.pingIntervalMs,
    });
    this.robot = new SimRobotApi({ room, tokens: this.tokens, credentials, wire, baseUrl: options.baseUrl });
    this.cards = new SimCardApi({ room, tokens: this.tokens, credentials, wire });
  }

  /** Adds DingTalk's routes to the server; `attach` adds the Stream socket to its HTTP server. */
  register(app: FastifyInstance): void {
    this.tokens.register(app);
    this.gateway.register(app);
    this.robot.register(app);
    this.cards.register(app);
    app.setNotFoundHandler((req, reply) => {
      // An API the simulator does not have: say so on the wire and answer in DingTalk's shape.
      if (req.url.startsWith('/v1.0/')) this.options.room.wire('api', `${req.method} ${req.url.split('?')[0]} is not simulated (404)`);
      return sendDingError(reply, 404, 'NotFound', `${req.method} ${req.url.split('?')[0]} is not simulated by the demo`);
    });
  }

  attach(server: Server): void {
    this.gateway.attach(server);
  }

  get botOnline(): boolean {
    return this.gateway.online;
  }

  /** A person sends `text` in a conversation they belong to. */
  say(conversationId: string, senderId: string, text: string): RoomMessage {
    const { room } = this.options;
    const conversation = room.conversation(conversationId);
    const sender = room.person(senderId);
    if (!conversation || !sender) throw new SayError('unknown conversation or person');
    if (!conversation.memberIds.includes(sender.id)) throw new SayError(`${sender.name} is not in this conversation`);
    if (text.trim() === '') throw new SayError('empty message');
    const mention = `@${room.cast.bot.name}`;
    // DingTalk hands the bot every direct message, and in groups only those that @ it.
    const toBot = conversation.kind === 'direct' || text.includes(mention);
    const message = room.addPersonMessage(conversation.id, sender.id, text, toBot);
    if (!toBot) return message;
    // In groups DingTalk removes the @bot from text.content and leaves the space around it.
    const content = conversation.kind === 'group' ? text.replace(mention, '') : text;
    this.gateway.push(message.id, this.robot.callbackFor(message, sender, content));
    return message;
  }

  async close(): Promise<void> {
    await this.gateway.close();
  }
}
