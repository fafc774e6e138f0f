import { retryDelayMs } from './ingest.repository';

describe('ingest retry backoff', () => {
  it('waits up to 5 ms, then up to 10 ms, with full jitter', () => {
    expect(retryDelayMs(1, () => 0)).toBe(0);
    expect(retryDelayMs(1, () => 0.999)).toBe(4);
    expect(retryDelayMs(2, () => 0.999)).toBe(9);
    expect(retryDelayMs(2, () => 0.5)).toBe(5);
  });

  it('spreads two colliding retries apart (different random draws, different waits)', () => {
    expect(retryDelayMs(2, () => 0.1)).not.toBe(retryDelayMs(2, () => 0.9));
  });
});
