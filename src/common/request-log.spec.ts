import { redactUrl } from './request-log';

describe('redactUrl', () => {
  it('replaces credential parameters wherever they stand, and keeps the rest', () => {
    expect(redactUrl('/api/v1/stream?access_token=abc.def&x=1&ticket=t1')).toBe(
      '/api/v1/stream?access_token=[REDACTED]&x=1&ticket=[REDACTED]',
    );
    expect(redactUrl('/a?x=1&ACCESS_TOKEN=zz#frag')).toBe('/a?x=1&ACCESS_TOKEN=[REDACTED]#frag');
    expect(redactUrl('/a?my_access_token=keep')).toBe('/a?my_access_token=keep');
    expect(redactUrl('/api/v1/trends/top?window=24h')).toBe('/api/v1/trends/top?window=24h');
  });

  it('bounds the length', () => {
    const long = redactUrl(`/x?q=${'a'.repeat(1000)}`);
    expect(long.length).toBeLessThanOrEqual(257);
    expect(long.endsWith('…')).toBe(true);
  });
});
