import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_POLICY,
  ADDRESS_POLICY,
  afterFailure,
  type ThrottleState,
  throttleKeys,
} from './login-throttle';

function failures(count: number, policy = ACCOUNT_POLICY, every = 1_000): ThrottleState {
  let state: ThrottleState | null = null;
  for (let i = 0; i < count; i++) state = afterFailure(state, i * every, policy);
  return state!;
}

describe('afterFailure', () => {
  it('lets the first attempts through, then doubles the wait up to the cap', () => {
    const waits = [4, 5, 6, 7, 12, 20].map((count) => {
      const state = failures(count);
      return state.blockedUntil - state.lastFailureAt;
    });
    expect(waits).toEqual([0, 30_000, 60_000, 120_000, 3_600_000, 3_600_000]);
  });

  it('is more generous per address than per account', () => {
    expect(failures(19, ADDRESS_POLICY).blockedUntil).toBe(failures(19, ADDRESS_POLICY).lastFailureAt);
    const twentieth = failures(20, ADDRESS_POLICY);
    expect(twentieth.blockedUntil - twentieth.lastFailureAt).toBe(30_000);
  });

  it('forgets failures after a quiet spell as long as the longest wait', () => {
    const blocked = failures(8);
    const later = afterFailure(
      blocked,
      blocked.lastFailureAt + ACCOUNT_POLICY.maxDelayMs + 1,
      ACCOUNT_POLICY,
    );
    expect(later).toEqual({
      failures: 1,
      lastFailureAt: later.lastFailureAt,
      blockedUntil: later.lastFailureAt,
    });
  });
});

describe('throttleKeys', () => {
  it('keys the account by its normalised address and the client by its IP', () => {
    expect(throttleKeys(' Ops@Example.COM ', '2001:db8::1')).toEqual({
      account: 'account:ops@example.com',
      address: 'ip:2001:db8::1',
    });
  });
});
