import { loadConfig } from '../config/config';
import { connectionTarget, tlsOptions } from './data-source';

const target = (env: Record<string, string>) => connectionTarget(loadConfig(env).db);

describe('database TLS', () => {
  it('follows sslmode in DATABASE_URL', () => {
    expect(target({ DATABASE_URL: 'postgres://u:p@db/x' }).ssl).toBe('disable');
    expect(target({ DATABASE_URL: 'postgres://u:p@db/x?sslmode=require' }).ssl).toBe('require');
    expect(target({ DATABASE_URL: 'postgres://u:p@db/x?sslmode=verify-ca' }).ssl).toBe('verify-ca');
    expect(target({ DATABASE_URL: 'postgres://u:p@db/x?sslmode=verify-full' }).ssl).toBe(
      'verify-full',
    );
  });

  it('verifies the certificate when DB_SSL=true', () => {
    expect(target({ DB_HOST: 'db', DB_SSL: 'true' }).ssl).toBe('verify-full');
    expect(tlsOptions('verify-full')).toMatchObject({ rejectUnauthorized: true });
  });

  it('encrypts without verification only for sslmode=require', () => {
    expect(tlsOptions('require')).toEqual({ rejectUnauthorized: false });
    expect(tlsOptions('disable')).toBe(false);
  });

  it('reads credentials from the URL', () => {
    expect(
      target({ DATABASE_URL: 'postgresql://us%40er:p%3Ass@db.example:6543/trends' }),
    ).toMatchObject({
      host: 'db.example',
      port: 6543,
      user: 'us@er',
      password: 'p:ss',
      database: 'trends',
    });
  });
});
