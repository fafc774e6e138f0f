import { quoteIdent, quoteStrictIdent } from './identifiers';

/** Hostile spellings an operator, the catalogue or a manifest read back could hand us. */
const HOSTILE = [
  'x"; DROP TABLE trend_observations; --',
  'a""b',
  '"',
  'Mixed Case',
  'trend_observations_p2026_11" CASCADE',
  "o'brien",
  'ünïcode ✓',
];

/** What PostgreSQL's own quote_ident would read back out of a double-quoted identifier. */
function unquote(quoted: string): string {
  expect(quoted.startsWith('"') && quoted.endsWith('"')).toBe(true);
  const body = quoted.slice(1, -1);
  // Inside the quotes every double quote must come doubled, or the name would end early.
  expect(body.replace(/""/g, '')).not.toContain('"');
  return body.replace(/""/g, '"');
}

describe('identifier quoting', () => {
  it.each(HOSTILE)('quoteIdent keeps %p one identifier that reads back unchanged', (name) => {
    expect(unquote(quoteIdent(name))).toBe(name);
  });

  it.each(HOSTILE)('quoteStrictIdent refuses %p', (name) => {
    expect(() => quoteStrictIdent(name)).toThrow(/unexpected identifier/);
  });

  it('quoteStrictIdent accepts the service own names', () => {
    expect(quoteStrictIdent('trend_observations_p2026_11')).toBe('"trend_observations_p2026_11"');
  });
});
