import { estimateBloat } from './bloat';

describe('estimateBloat', () => {
  it('is zero for an index at its ideal size', () => {
    // 16-byte key: (8 + 16) aligned = 24 + 4 = 28 bytes per tuple; 7336.8 usable bytes/page.
    const tuples = 100_000;
    const ideal = Math.ceil((tuples * 28) / ((8192 - 40) * 0.9)) + 1;
    expect(estimateBloat({ method: 'btree', pages: ideal, tuples, keyWidth: 16 })).toBe(0);
  });

  it('gives the wasted share of an oversized index', () => {
    const tuples = 100_000;
    const ideal = Math.ceil((tuples * 28) / ((8192 - 40) * 0.9)) + 1;
    expect(estimateBloat({ method: 'btree', pages: ideal * 4, tuples, keyWidth: 16 })).toBeCloseTo(
      0.75,
      5,
    );
  });

  it('rounds key widths up to the 8-byte alignment', () => {
    const a = estimateBloat({ method: 'btree', pages: 1000, tuples: 50_000, keyWidth: 9 });
    const b = estimateBloat({ method: 'btree', pages: 1000, tuples: 50_000, keyWidth: 16 });
    expect(a).toBe(b);
  });

  it('cannot say without statistics, tuples, or for other access methods', () => {
    expect(estimateBloat({ method: 'btree', pages: 100, tuples: 1000, keyWidth: null })).toBeNull();
    expect(estimateBloat({ method: 'btree', pages: 100, tuples: 0, keyWidth: 8 })).toBeNull();
    expect(estimateBloat({ method: 'brin', pages: 100, tuples: 1000, keyWidth: 8 })).toBeNull();
    expect(estimateBloat({ method: 'btree', pages: 1, tuples: 1000, keyWidth: 8 })).toBeNull();
  });

  it('never reports more than the whole index or less than nothing', () => {
    expect(estimateBloat({ method: 'btree', pages: 2, tuples: 1_000_000, keyWidth: 64 })).toBe(0);
  });
});
