import { type Column, getTableColumns, getTableName, is, SQL } from 'drizzle-orm';
import { type PgColumn, PgDialect, type PgTable, getTableConfig as pgTableConfig } from 'drizzle-orm/pg-core';
import {
  type SQLiteColumn,
  SQLiteSyncDialect,
  type SQLiteTable,
  SQLiteTimestamp,
  getTableConfig as sqliteTableConfig,
} from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { tables as pgTables } from './pg-schema';
import { tables as sqliteTables } from './sqlite-schema';

/**
 * The PostgreSQL schema must mean what the SQLite schema means: same tables, columns, keys and indexes, with
 * each column's type the PostgreSQL counterpart of its SQLite type. Each side is reduced to the same plain
 * description and the two are compared; a difference names the table and column.
 */

type LogicalType = 'integer' | 'boolean' | 'timestamp_ms' | 'text' | 'json' | 'bytes' | 'double';

/** SQLite column kinds (drizzle columnType, plus the mode for timestamps) and what they hold. */
const SQLITE_TYPES: Record<string, LogicalType> = {
  SQLiteInteger: 'integer',
  SQLiteBoolean: 'boolean',
  'SQLiteTimestamp:timestamp_ms': 'timestamp_ms',
  SQLiteText: 'text',
  SQLiteTextJson: 'json',
  SQLiteBlobBuffer: 'bytes',
  SQLiteReal: 'double',
};

/** PostgreSQL column types (as drizzle-kit writes them) that hold the same. */
const PG_TYPES: Record<string, LogicalType> = {
  integer: 'integer',
  // Only as bigint({ mode: 'number' }); pg-schema.ts's row-type check rejects the bigint mode.
  bigint: 'integer',
  boolean: 'boolean',
  'timestamp (3) with time zone': 'timestamp_ms',
  text: 'text',
  jsonb: 'json',
  bytea: 'bytes',
  'double precision': 'double',
};

interface ColumnShape {
  sqlName: string;
  type: LogicalType | `unmapped ${string}`;
  notNull: boolean;
  hasDefault: boolean;
  default: unknown;
  /** SQLite's INTEGER PRIMARY KEY numbers rows itself; PostgreSQL's counterpart is an identity column. */
  autoNumbered: boolean;
  unique: boolean;
  enumValues: readonly string[] | undefined;
}

interface ForeignKeyShape {
  columns: string[];
  foreignTable: string;
  foreignColumns: string[];
  onDelete: string;
  onUpdate: string;
}

interface IndexShape {
  columns: string[];
  unique: boolean;
  /** The partial index's predicate as SQL text; both dialects quote identifiers the same way. */
  where: string | null;
}

interface TableShape {
  sqlName: string;
  /** By JS property name, the name services use. */
  columns: Record<string, ColumnShape>;
  primaryKey: { name: string | null; columns: string[] };
  foreignKeys: Record<string, ForeignKeyShape>;
  indexes: Record<string, IndexShape>;
  uniqueConstraints: { name: string | undefined; columns: string[] }[];
  checks: string[];
}

type TableKey = keyof typeof sqliteTables;

function sqliteType(column: SQLiteColumn): ColumnShape['type'] {
  // Seconds and milliseconds are both SQLiteTimestamp; only the mode tells them apart.
  const kind = is(column, SQLiteTimestamp) ? `${column.columnType}:${column.mode}` : column.columnType;
  return SQLITE_TYPES[kind] ?? `unmapped ${kind}`;
}

function pgType(column: PgColumn): ColumnShape['type'] {
  const sqlType = column.getSQLType();
  return PG_TYPES[sqlType] ?? `unmapped ${sqlType}`;
}

function columnShape(column: Column, type: ColumnShape['type'], autoNumbered: boolean): ColumnShape {
  return {
    sqlName: column.name,
    type,
    notNull: column.notNull,
    hasDefault: column.hasDefault,
    default: column.default,
    autoNumbered,
    unique: column.isUnique,
    enumValues: column.enumValues,
  };
}

function indexedColumnName(column: unknown, indexName: string): string {
  if (is(column, SQL) || typeof column !== 'object' || column === null || !('name' in column))
    throw new Error(`${indexName} indexes an expression; teach schema-drift.test.ts to compare those`);
  return String(column.name);
}

function referenceShape(
  reference: { columns: Column[]; foreignTable: SQLiteTable | PgTable; foreignColumns: Column[] },
  onDelete: string | undefined,
  onUpdate: string | undefined,
): ForeignKeyShape {
  return {
    columns: reference.columns.map((column) => column.name),
    foreignTable: getTableName(reference.foreignTable),
    foreignColumns: reference.foreignColumns.map((column) => column.name),
    // SQLite leaves the actions unset where PostgreSQL says `no action`; both mean the same.
    onDelete: onDelete ?? 'no action',
    onUpdate: onUpdate ?? 'no action',
  };
}

function primaryKeyShape(
  columns: Column[],
  composite: { getName(): string; columns: Column[] }[],
): TableShape['primaryKey'] {
  const [key, ...more] = composite;
  if (more.length > 0) throw new Error('a table cannot have two primary keys');
  if (key) return { name: key.getName(), columns: key.columns.map((column) => column.name) };
  return { name: null, columns: columns.filter((column) => column.primary).map((column) => column.name) };
}

function propertyNames(table: SQLiteTable | PgTable): Map<Column, string> {
  return new Map(Object.entries(getTableColumns(table)).map(([property, column]) => [column, property]));
}

function sqliteShape(table: SQLiteTable): TableShape {
  const config = sqliteTableConfig(table);
  const dialect = new SQLiteSyncDialect();
  const properties = propertyNames(table);
  return {
    sqlName: config.name,
    columns: Object.fromEntries(
      config.columns.map((column) => [
        properties.get(column),
        // An INTEGER PRIMARY KEY is the rowid alias whether or not AUTOINCREMENT is asked for.
        columnShape(column, sqliteType(column), column.primary && column.getSQLType() === 'integer'),
      ]),
    ),
    primaryKey: primaryKeyShape(config.columns, config.primaryKeys),
    foreignKeys: Object.fromEntries(
      config.foreignKeys.map((key) => [
        key.getName(),
        referenceShape(key.reference(), key.onDelete, key.onUpdate),
      ]),
    ),
    indexes: Object.fromEntries(
      config.indexes.map(({ config: index }) => [
        index.name,
        {
          columns: index.columns.map((column) => indexedColumnName(column, index.name)),
          unique: index.unique,
          where: index.where ? dialect.sqlToQuery(index.where).sql : null,
        },
      ]),
    ),
    uniqueConstraints: config.uniqueConstraints.map((constraint) => ({
      name: constraint.getName(),
      columns: constraint.columns.map((column) => column.name),
    })),
    checks: config.checks.map((check) => check.name),
  };
}

function pgShape(table: PgTable): TableShape {
  const config = pgTableConfig(table);
  const dialect = new PgDialect();
  const properties = propertyNames(table);
  return {
    sqlName: config.name,
    columns: Object.fromEntries(
      config.columns.map((column) => [
        properties.get(column),
        columnShape(column, pgType(column), column.generatedIdentity?.type === 'byDefault'),
      ]),
    ),
    primaryKey: primaryKeyShape(config.columns, config.primaryKeys),
    foreignKeys: Object.fromEntries(
      config.foreignKeys.map((key) => [
        key.getName(),
        referenceShape(key.reference(), key.onDelete, key.onUpdate),
      ]),
    ),
    indexes: Object.fromEntries(
      config.indexes.map(({ config: index }) => {
        const name = index.name ?? '(unnamed)';
        // SQLite only has b-trees; another method here would not mean the same index.
        expect(index.method, `${config.name}: index ${name} method`).toBe('btree');
        return [
          name,
          {
            columns: index.columns.map((column) => indexedColumnName(column, name)),
            unique: index.unique,
            where: index.where ? dialect.sqlToQuery(index.where).sql : null,
          },
        ];
      }),
    ),
    uniqueConstraints: config.uniqueConstraints.map((constraint) => ({
      name: constraint.getName(),
      columns: constraint.columns.map((column) => column.name),
    })),
    checks: config.checks.map((check) => check.name),
  };
}

function missingFrom(names: string[], others: string[]): string[] {
  return names.filter((name) => !others.includes(name));
}

/** Compares two keyed records entry by entry, so a failure says which entry (and of which table) differs. */
function expectSameEntries<T>(what: string, sqlite: Record<string, T>, pg: Record<string, T>): void {
  const sqliteNames = Object.keys(sqlite);
  const pgNames = Object.keys(pg);
  expect(missingFrom(sqliteNames, pgNames), `${what} only in SQLite`).toEqual([]);
  expect(missingFrom(pgNames, sqliteNames), `${what} only in PostgreSQL`).toEqual([]);
  for (const name of sqliteNames) expect(pg[name], `${what} ${name}`).toEqual(sqlite[name]);
}

describe('PostgreSQL schema matches the SQLite schema', () => {
  it('has the same tables under the same names, in the same order', () => {
    expect(Object.keys(pgTables)).toEqual(Object.keys(sqliteTables));
  });

  const tableKeys = Object.keys(sqliteTables) as TableKey[];

  describe.each(tableKeys)('%s', (key) => {
    const sqlite = sqliteShape(sqliteTables[key]);
    const pg = pgShape(pgTables[key]);
    const table = sqlite.sqlName;

    it('has the same SQL name', () => {
      expect(pg.sqlName, `${key}: SQL table name`).toBe(sqlite.sqlName);
    });

    it('has the same columns, types, nullability and defaults', () => {
      for (const shape of [sqlite, pg])
        for (const [property, column] of Object.entries(shape.columns))
          expect(column.type, `${table}.${column.sqlName} (${property}): type`).not.toMatch(/^unmapped/);
      expectSameEntries(`${table}: column`, sqlite.columns, pg.columns);
    });

    it('has the same primary key', () => {
      expect(pg.primaryKey, `${table}: primary key`).toEqual(sqlite.primaryKey);
    });

    it('has the same foreign keys', () => {
      expectSameEntries(`${table}: foreign key`, sqlite.foreignKeys, pg.foreignKeys);
    });

    it('has the same indexes', () => {
      expectSameEntries(`${table}: index`, sqlite.indexes, pg.indexes);
    });

    it('has the same unique and check constraints', () => {
      expect(pg.uniqueConstraints, `${table}: unique constraints`).toEqual(sqlite.uniqueConstraints);
      expect(pg.checks, `${table}: check constraints`).toEqual(sqlite.checks);
    });
  });
});
