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
