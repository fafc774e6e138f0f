import { UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { sign } from 'jsonwebtoken';
import { AppConfig } from '../config/config';
import { TokenService } from './token.service';

const SECRET = 'unit-secret-0123456789abcdef0123456789abcdef';

describe('TokenService verified-token cache', () => {
  const config = { env: 'test', jwt: { secret: SECRET } } as unknown as AppConfig;
  const service = new TokenService(new JwtService({}), config);
  const now = Date.now();
  const exp = Math.floor(now / 1000) + 60;
  const token = sign({ sub: 'cached', roles: ['analyst', 'bogus'], exp }, SECRET, {
    algorithm: 'HS256',
  });

  afterEach(() => jest.restoreAllMocks());

  it('answers a repeat from the cache and still rejects the token from its exp on', () => {
    expect(service.verify(token)).toEqual({ sub: 'cached', roles: ['analyst'] });
    // Remembered: a repeat does not verify the signature again.
    const parse = jest.spyOn(JSON, 'parse');
    expect(service.verify(token)).toEqual({ sub: 'cached', roles: ['analyst'] });
    expect(parse).not.toHaveBeenCalled();
    parse.mockRestore();

    jest.spyOn(Date, 'now').mockReturnValue(exp * 1000 - 1);
    expect(service.verify(token).sub).toBe('cached');
    jest.spyOn(Date, 'now').mockReturnValue(exp * 1000);
    expect(() => service.verify(token)).toThrow(UnauthorizedException);
    expect(() => service.verify(token)).toThrow(/expired/);
  });

  it('never remembers a rejected token', () => {
    const forged = sign({ sub: 'forged', roles: ['admin'], exp }, `${SECRET}x`, {
      algorithm: 'HS256',
    });
    expect(() => service.verify(forged)).toThrow(/invalid signature/);
    expect(() => service.verify(forged)).toThrow(/invalid signature/);
  });
});
