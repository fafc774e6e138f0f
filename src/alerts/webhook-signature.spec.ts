import { generateSecret, secretKey, signWebhook } from './webhook-signature';

describe('Standard Webhooks signing', () => {
  it('matches the example vector published with the Standard Webhooks specification', () => {
    expect(
      signWebhook(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('generates whsec_ secrets of 32 random bytes', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(a)).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  it('accepts only whsec_ + base64 of 24..64 bytes', () => {
    const b64 = (n: number) => Buffer.alloc(n, 1).toString('base64');
    expect(secretKey(`whsec_${b64(24)}`)).toHaveLength(24);
    expect(secretKey(`whsec_${b64(64)}`)).toHaveLength(64);
    expect(secretKey(`whsec_${b64(23)}`)).toBeUndefined();
    expect(secretKey(`whsec_${b64(65)}`)).toBeUndefined();
    expect(secretKey(b64(32))).toBeUndefined();
    expect(secretKey('whsec_not base64!')).toBeUndefined();
  });
});
