/** @module Reading SQLite values into typed fields: the column types are the schema's, so these only narrow. */
export type Row = Record<string, SqlStorageValue>

export const str = (v: SqlStorageValue | undefined): string => v as string
export const strOrNull = (v: SqlStorageValue | undefined): string | null => (v === null || v === undefined ? null : (v as string))
export const num = (v: SqlStorageValue | undefined): number => v as number
export const numOrNull = (v: SqlStorageValue | undefined): number | null => (v === null || v === undefined ? null : (v as number))
