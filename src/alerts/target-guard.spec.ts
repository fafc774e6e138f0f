import { TargetRefused, checkTarget, isPrivateAddress } from './target-guard';

describe('SSRF target guard', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '[::1]',
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );

  it('checks literal addresses and every resolved address of a name', async () => {
    const resolver = (host: string) =>
      Promise.resolve(
        host === 'evil.example'
          ? [
              { address: '93.184.216.34', family: 4 },
              { address: '10.0.0.5', family: 4 },
            ]
          : [{ address: '93.184.216.34', family: 4 }],
      );
    await expect(checkTarget('http://127.0.0.1:9/x', false, resolver)).rejects.toThrow(
      TargetRefused,
    );
    await expect(checkTarget('http://[::1]/x', false, resolver)).rejects.toThrow(TargetRefused);
    await expect(checkTarget('http://evil.example/x', false, resolver)).rejects.toThrow(
      /10\.0\.0\.5/,
    );
    await expect(checkTarget('https://good.example/x', false, resolver)).resolves.toBeInstanceOf(
      URL,
    );
    await expect(checkTarget('http://127.0.0.1:9/x', true, resolver)).resolves.toBeInstanceOf(URL);
  });

  it('refuses non-http schemes and credentials', async () => {
    await expect(checkTarget('file:///etc/passwd', true)).rejects.toThrow(/http/);
    await expect(checkTarget('http://u:p@example.com/', true)).rejects.toThrow(/credentials/);
    await expect(checkTarget('not a url', true)).rejects.toThrow(TargetRefused);
  });
});
