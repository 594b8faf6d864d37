/** KeyRing: roles of a presented key; keys that matched are remembered, unknown ones never are. */
import { KeyRing } from '../../api/auth';
import type { Role } from '../../common/config';

const ring = () =>
  new KeyRing(
    new Map<string, Set<Role>>([
      ['checkout-key-0123456789', new Set<Role>(['checkout'])],
      ['admin-key-0123456789abc', new Set<Role>(['admin', 'operator'])],
    ]),
  );

test('answers the roles of a known key, the same on every call', () => {
  const keys = ring();
  for (let i = 0; i < 3; i += 1) {
    expect([...keys.rolesOf('checkout-key-0123456789')!]).toEqual(['checkout']);
    expect([...keys.rolesOf('admin-key-0123456789abc')!].sort()).toEqual(['admin', 'operator']);
  }
});

test('an unknown key stays unknown after known keys were remembered, however often it is tried', () => {
  const keys = ring();
  keys.rolesOf('checkout-key-0123456789');
  for (let i = 0; i < 3; i += 1) {
    expect(keys.rolesOf('checkout-key-012345678')).toBeUndefined();
    expect(keys.rolesOf('checkout-key-01234567890')).toBeUndefined();
    expect(keys.rolesOf('CHECKOUT-KEY-0123456789')).toBeUndefined();
    expect(keys.rolesOf('')).toBeUndefined();
  }
});

test('unknown keys are not remembered, so they cannot fill memory: at most the configured keys are', () => {
  const keys = ring();
  const remembered = () => (keys as unknown as { matched: Map<string, unknown> }).matched.size;
  for (let i = 0; i < 10_000; i += 1) keys.rolesOf(`unknown-key-${i}-0123456789`);
  expect(remembered()).toBe(0);
  keys.rolesOf('checkout-key-0123456789');
  keys.rolesOf('admin-key-0123456789abc');
  keys.rolesOf('checkout-key-0123456789');
  expect(remembered()).toBe(2);
});
