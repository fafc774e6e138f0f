import { requestedRepresentation, toCsv } from './csv';

describe('CSV representation', () => {
  it.each([
    [undefined, undefined, 'json'],
    [undefined, '*/*', 'json'],
    [undefined, 'text/csv', 'csv'],
    [undefined, 'text/csv, application/json;q=0.5', 'csv'],
    [undefined, 'application/json, text/csv;q=0.5', 'json'],
    [undefined, 'text/html,application/xhtml+xml,*/*;q=0.8', 'json'],
    [undefined, 'text/csv;q=0', 'json'],
    ['csv', 'application/json', 'csv'],
    ['json', 'text/csv', 'json'],
  ])('format=%s, Accept: %s → %s', (format, accept, expected) => {
    expect(requestedRepresentation(format, accept)).toBe(expected);
  });

  it('writes RFC 4180: header row, CRLF, quoting, null as empty, JSON digits', () => {
    const csv = toCsv(
      ['name', 'n', 's'],
      [
        { name: 'Say "hi", world', n: 0.1 + 0.2, s: null },
        { name: 'line\nbreak', n: 1e21, s: 0.4 },
      ],
    );
    expect(csv).toBe(
      'name,n,s\r\n"Say ""hi"", world",0.30000000000000004,\r\n"line\nbreak",1e+21,0.4\r\n',
    );
    expect(toCsv(['a', 'b'], [])).toBe('a,b\r\n');
  });
});
