import { describe, expect, it } from 'vitest';
import {
  CURRENT_PARAMS,
  commonPasswordForms,
  hashPassword,
  needsRehash,
  PASSWORD_MIN_LENGTH,
  passwordProblem,
  UNUSABLE_PASSWORD,
  verifyPassword,
} from './password';

const CHEAP = { ln: 10, r: 8, p: 1 };

describe('hashPassword / verifyPassword', () => {
  it('stores a versioned scrypt string with today’s parameters and a fresh salt each time', async () => {
    const first = await hashPassword('blue kettle on the stove');
    const second = await hashPassword('blue kettle on the stove');
    expect(first).toMatch(/^\$scrypt\$v=1\$ln=17,r=8,p=1\$[\w-]{22}\$[\w-]{43}$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword('blue kettle on the stove', first)).toBe(true);
    expect(await verifyPassword('blue kettle on the stove ', first)).toBe(false);
    expect(await verifyPassword('Blue kettle on the stove', first)).toBe(false);
  });

  it('verifies hashes made with other parameters and says they need a rehash', async () => {
    const old = await hashPassword('an older passphrase here', CHEAP);
    expect(old).toContain('$ln=10,r=8,p=1$');
    expect(await verifyPassword('an older passphrase here', old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash(await hashPassword('a current passphrase', CURRENT_PARAMS))).toBe(false);
  });

  it('treats the same passphrase typed in another Unicode form as the same', async () => {
    const composed = await hashPassword('café crème brûlée!', CHEAP);
    expect(await verifyPassword('cafe\u0301 cre\u0300me bru\u0302le\u0301e!', composed)).toBe(true);
  });

  it('never matches an unusable, missing, malformed or tampered hash', async () => {
    const good = await hashPassword('correct battery horse', CHEAP);
    expect(await verifyPassword('anything at all', UNUSABLE_PASSWORD)).toBe(false);
    expect(await verifyPassword('anything at all', null)).toBe(false);
    expect(await verifyPassword('correct battery horse', good.replace('v=1', 'v=9'))).toBe(false);
    // A row edited to absurd parameters is refused rather than run.
    expect(await verifyPassword('correct battery horse', good.replace('ln=10', 'ln=30'))).toBe(false);
    expect(await verifyPassword('', good)).toBe(false);
  });

  it('takes about as long for an account without a usable hash as for a wrong password', async () => {
    const real = await hashPassword('a real users passphrase');
    const time = async (stored: string | null) => {
      const started = performance.now();
      await verifyPassword('a guess of the attacker', stored);
      return performance.now() - started;
    };
    await time(null); // the decoy hash is made on first use
    const wrong = Math.min(await time(real), await time(real));
    const unknown = Math.min(await time(null), await time(null));
    expect(unknown / wrong).toBeGreaterThan(0.6);
    expect(unknown / wrong).toBeLessThan(1.6);
  });
});

describe('passwordProblem', () => {
  it(`refuses fewer than ${PASSWORD_MIN_LENGTH} characters, counting characters rather than bytes`, () => {
    expect(passwordProblem('short pass1')).toMatch(/at least 12/);
    expect(passwordProblem('ééééé ûûûûû')).toMatch(/at least 12/);
    expect(passwordProblem('x'.repeat(1025))).toMatch(/at most 1024/);
  });

  it('refuses common passwords, also de-leeted, capitalised or with a short tail of digits/symbols', () => {
    for (const common of [
      'password1234',
      'Password2024!',
      'P@ssw0rd123456',
      'qwertyuiopasdf',
      'iloveyouforever',
      'Liverpool12345',
      'football1234!',
      '1q2w3e4r5t6y7u8i',
      'correcthorsebatterystaple',
    ])
      expect(passwordProblem(common), common).toMatch(/commonly used/);
  });

  it('refuses trivial patterns and passwords that are mostly the user’s own name or address', () => {
    expect(passwordProblem('aaaaaaaaaaaaaa')).toMatch(/simple pattern/);
    expect(passwordProblem('abababababababab')).toMatch(/simple pattern/);
    expect(passwordProblem('abcdefghijklmnop')).toMatch(/simple pattern/);
    expect(passwordProblem('ops.lead@example.com', { email: 'ops.lead@example.com' })).toMatch(/your name/);
    expect(passwordProblem('MargaretHamilton1', { name: 'Margaret Hamilton' })).toMatch(/your name/);
  });

  it('accepts long, uncommon passphrases, including a common word with a long random tail', () => {
    expect(passwordProblem('tangerine-violin-granite-7')).toBeNull();
    expect(passwordProblem('sunshine83920175')).toBeNull();
    expect(passwordProblem('Zx9#mQ2$vL7!pW4')).toBeNull();
  });
});

describe('commonPasswordForms', () => {
  it('lists the spellings the list is checked with', () => {
    expect(commonPasswordForms('P@ssw0rd2024!')).toEqual([
      'p@ssw0rd2024!',
      'p@ssw0rd',
      'password2o2a!',
      'password',
    ]);
  });
});
