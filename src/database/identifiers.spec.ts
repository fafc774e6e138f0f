import { quoteIdent, quoteQualifiedName, quoteStrictIdent } from './identifiers';

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

  it.each(HOSTILE)(
    'quoteQualifiedName keeps quote_ident(%p) one name after a round trip',
    (name) => {
      // As quote_ident writes a name that needs quotes, in schema public.
      const qualified = `public.${quoteIdent(name)}`;
      const requoted = quoteQualifiedName(qualified);
      expect(requoted.startsWith('"public".')).toBe(true);
      expect(unquote(requoted.slice('"public".'.length))).toBe(name);
    },
  );

  it('quoteQualifiedName quotes plain quote_ident output', () => {
    expect(quoteQualifiedName('public.trend_observations')).toBe('"public"."trend_observations"');
  });

  it.each([
    'public.x; DROP TABLE backups',
    'trend_observations',
    'public."a"b"',
    'public.t WHERE false',
    '(SELECT 1) s',
    'a.b.c',
  ])('quoteQualifiedName refuses a tampered manifest name %p', (name) => {
    expect(() => quoteQualifiedName(name)).toThrow(/unexpected qualified name/);
  });
});
