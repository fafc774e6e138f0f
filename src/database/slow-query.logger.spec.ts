import { Logger } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { runWithQuerySource } from './query-source';
import { SlowQueryLogger, normalizeStatement } from './slow-query.logger';

describe('normalizeStatement', () => {
  it('replaces literals and collapses whitespace', () => {
    expect(
      normalizeStatement("SELECT *\n  FROM t -- note\n WHERE a = 'x''y' AND b > 42 AND c = $1"),
    ).toBe('SELECT * FROM t WHERE a = ? AND b > ? AND c = $1');
  });

  it('keeps identifiers that contain digits', () => {
    expect(normalizeStatement('SELECT 1 FROM trend_observations_p2026_11')).toBe(
      'SELECT ? FROM trend_observations_p2026_11',
    );
  });

  it('cuts long statements', () => {
    const shape = normalizeStatement(`SELECT ${'a, '.repeat(400)}b`);
    expect(shape.length).toBe(501);
    expect(shape.endsWith('…')).toBe(true);
  });
});

describe('SlowQueryLogger', () => {
  it('counts and logs once per slow statement, labelled with the current source', async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'db_slow_queries_total',
      help: 'h',
      labelNames: ['source'],
      registers: [registry],
    });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const logger = new SlowQueryLogger(counter);
      await runWithQuerySource('/api/v1/trends/top', async () => {
        await Promise.resolve();
        logger.logQuerySlow(1234.5, "SELECT 'secret' FROM t WHERE id = 7", ['param-value']);
      });
      logger.logQuerySlow(2000, 'VACUUM');
      const values = (await counter.get()).values;
      expect(values).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ labels: { source: '/api/v1/trends/top' }, value: 1 }),
          expect.objectContaining({ labels: { source: 'other' }, value: 1 }),
        ]),
      );
      expect(warn).toHaveBeenCalledTimes(2);
      const line = String(warn.mock.calls[0][0]);
      expect(line).toContain('1235 ms');
      expect(line).toContain('/api/v1/trends/top');
      expect(line).not.toContain('secret');
      expect(line).not.toContain('param-value');
    } finally {
      warn.mockRestore();
    }
  });
});
