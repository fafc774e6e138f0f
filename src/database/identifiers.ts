/**
 * Quoting SQL identifiers that cannot be bound as parameters (table, index, database names).
 * Two variants on purpose: names the service builds itself must match its own naming scheme,
 * so anything else is a bug worth failing loudly on; names it does not control are escaped.
 */

/**
 * For names the service generates (partition, table and column names of its own schema):
 * accepts only lower-case [a-z0-9_] names and throws on anything else.
 */
export function quoteStrictIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected identifier ${name}`);
  return `"${name}"`;
}

/**
 * For names the service does not control (read from the catalogue, given by an operator or
 * by configuration): double-quotes any spelling, doubling embedded quotes.
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** One identifier as PostgreSQL's quote_ident writes it: plain lower-case, or double-quoted. */
const IDENT_TOKEN = '(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")';
const QUALIFIED = new RegExp(`^(${IDENT_TOKEN})\\.(${IDENT_TOKEN})$`);

/**
 * Re-quotes a `schema.table` name that was written by quote_ident and then stored outside the
 * database's control (a backup manifest read back as JSON): it is split into its two
 * identifiers and each is quoted again by quoteIdent, so a tampered name stays one name (or
 * throws) instead of becoming SQL.
 */
export function quoteQualifiedName(qualified: string): string {
  const match = QUALIFIED.exec(qualified);
  if (!match) throw new Error(`unexpected qualified name ${qualified}`);
  const unquote = (part: string) =>
    part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part;
  return `${quoteIdent(unquote(match[1]))}.${quoteIdent(unquote(match[2]))}`;
}
