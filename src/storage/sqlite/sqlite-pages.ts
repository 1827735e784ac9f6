import type { SqliteConnection } from './sqlite-connection.js';

/**
 * Reads `table` rows with `from <= at < to` in (at, rowid) order, `pageSize` rows per query
 * (keyset paging), so a report over months never holds the whole table in memory.
 */
export async function* rowsBetween<Row extends { at: number; r: number }>(
  db: SqliteConnection,
  table: string,
  columns: string,
  from: number,
  to: number,
  pageSize = 2_000,
): AsyncGenerator<Row> {
  let afterAt = -Infinity;
  let afterRow = -1;
  for (;;) {
    const rows = await db.all<Row>(
      `reading ${table} failed`,
      `SELECT rowid AS r, ${columns} FROM ${table}
       WHERE at >= ? AND at < ? AND (at > ? OR (at = ? AND rowid > ?))
       ORDER BY at, rowid LIMIT ?`,
      [from, to, afterAt, afterAt, afterRow, pageSize],
    );
    yield* rows;
    if (rows.length < pageSize) return;
    afterAt = rows.at(-1)!.at;
    afterRow = rows.at(-1)!.r;
  }
}
