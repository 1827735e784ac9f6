import type { OpenCard, OpenCardStore } from '../open-card-store.js';
import type { SqliteConnection } from './sqlite-connection.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS open_cards (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    target TEXT NOT NULL,
    last_text TEXT NOT NULL,
    opened_at INTEGER NOT NULL
  );`;

/** Open AI cards in their own table of the session file (shares the ledger's connection). */
export class SqliteOpenCardStore implements OpenCardStore {
  private constructor(private readonly db: SqliteConnection) {}

  static async open(db: SqliteConnection): Promise<SqliteOpenCardStore> {
    await db.exec('cannot create the open_cards table', SCHEMA);
    return new SqliteOpenCardStore(db);
  }

  async put(card: OpenCard): Promise<void> {
    await this.db.run(
      `recording open card ${card.id} failed`,
      `INSERT INTO open_cards (id, message_id, target, last_text, opened_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET target = excluded.target, last_text = excluded.last_text`,
      [card.id, card.messageId, JSON.stringify(card.target), card.lastText, card.openedAt],
    );
  }

  async remove(id: string): Promise<void> {
    await this.db.run(`removing open card ${id} failed`, 'DELETE FROM open_cards WHERE id = ?', [id]);
  }

  async list(): Promise<OpenCard[]> {
    const rows = await this.db.all<{ id: string; message_id: string; target: string; last_text: string; opened_at: number }>(
      'listing open cards failed',
      'SELECT id, message_id, target, last_text, opened_at FROM open_cards ORDER BY opened_at, rowid',
    );
    return rows.map((r) => ({
      id: r.id,
      messageId: r.message_id,
      target: parseTarget(r.target),
      lastText: r.last_text,
      openedAt: r.opened_at,
    }));
  }
}

function parseTarget(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
