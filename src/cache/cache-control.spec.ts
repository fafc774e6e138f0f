import { parseCacheControl } from './cache-control';

describe('parseCacheControl', () => {
  it('reads max-stale with and without a value', () => {
    expect(parseCacheControl('max-stale=30', 3600)).toEqual({ noCache: false, maxStale: 30 });
    expect(parseCacheControl('max-stale', 3600)).toEqual({ noCache: false, maxStale: 3600 });
    expect(parseCacheControl('Max-Stale="15", foo', 3600)).toEqual({
      noCache: false,
      maxStale: 15,
    });
  });

  it('reads no-cache and its equivalents', () => {
    expect(parseCacheControl('no-cache', 3600).noCache).toBe(true);
    expect(parseCacheControl('max-age=0', 3600).noCache).toBe(true);
    expect(parseCacheControl(['public', 'no-store'], 3600).noCache).toBe(true);
  });

  it('ignores absent or malformed directives', () => {
    expect(parseCacheControl(undefined, 3600)).toEqual({ noCache: false });
    expect(parseCacheControl('max-stale=abc, max-age=10', 3600)).toEqual({ noCache: false });
  });
});
