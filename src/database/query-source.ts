import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a database statement is running for: the route template of the HTTP request or the
 * job name. Carried through async calls so the slow-query log can name it without every
 * repository passing it along. Values are bounded (route templates, job names).
 */
const storage = new AsyncLocalStorage<string>();

/** Statements outside a request or job (start-up, migrations, CLIs). */
export const UNKNOWN_QUERY_SOURCE = 'other';

export function runWithQuerySource<T>(source: string, work: () => T): T {
  return storage.run(source, work);
}

export function currentQuerySource(): string {
  return storage.getStore() ?? UNKNOWN_QUERY_SOURCE;
}
