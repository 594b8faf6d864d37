/** The rules of incident work, on tables of cases. */
import { isReviewOverdue, refuseProblemUpdate, refuseReview, reopensProblem, reviewDueAt } from '../../domain';

const DAY = 86_400_000;

test.each([
  ['SEV1', 'recovered', 5 * DAY],
  ['SEV2', 'manual', 5 * DAY],
  ['SEV3', 'recovered', undefined],
  ['SEV1', 'completed', undefined],
  ['SEV2', 'cancelled', undefined],
] as const)('a %s that ended %s is due for review after %p ms', (severity, endReason, after) => {
  expect(reviewDueAt(severity, 0, 5 * DAY, endReason)).toBe(after);
});

test('a review is overdue from its due time until written', () => {
  expect(isReviewOverdue({ reviewDueAt: 100, reviewed: false }, 99)).toBe(false);
  expect(isReviewOverdue({ reviewDueAt: 100, reviewed: false }, 100)).toBe(true);
  expect(isReviewOverdue({ reviewDueAt: 100, reviewed: true }, 200)).toBe(false);
  expect(isReviewOverdue({ reviewed: false }, 200)).toBe(false);
});

test('a review waits for the close and is written once', () => {
  expect(refuseReview({ status: 'open', reviewed: false })?.kind).toBe('conflict');
  expect(refuseReview({ status: 'resolved', reviewed: true })?.kind).toBe('conflict');
  expect(refuseReview({ status: 'resolved', reviewed: false })).toBeUndefined();
});

test.each([
  ['a known error without its workaround', { status: 'open' as const }, { status: 'known_error' as const }, 'workaround'],
  ['a known error with the workaround it already has', { status: 'investigating' as const, workaround: 'w' }, { status: 'known_error' as const }, undefined],
  ['resolved without a root cause', { status: 'known_error' as const, workaround: 'w' }, { status: 'resolved' as const }, 'rootCause'],
  ['resolved with its root cause', { status: 'open' as const }, { status: 'resolved' as const, rootCause: 'r' }, undefined],
  ['anything on a resolved problem', { status: 'resolved' as const }, { status: 'investigating' as const }, 'conflict'],
])('%s', (_what, current, update, refused) => {
  const r = refuseProblemUpdate(current, update);
  expect(r === undefined ? undefined : r.kind === 'invalid' ? r.field : r.kind).toBe(refused);
});

test('a resolved problem reopens with a downtime after its resolution, not one before', () => {
  expect(reopensProblem({ status: 'resolved', resolvedAt: 100 }, 101)).toBe(true);
  expect(reopensProblem({ status: 'resolved', resolvedAt: 100 }, 100)).toBe(false);
  expect(reopensProblem({ status: 'known_error', resolvedAt: 100 }, 200)).toBe(false);
});
