// preflight's knowledge of REDIS_COMMANDS (src/cli/preflight/redisCommandUses.ts): the version
// bar it derives, how versions compare, and the ACL rule a fix names.
import {
  COMMAND_USES,
  minimumVersion,
  olderThan,
  ruleFor,
  type UseContext,
} from '../../src/cli/preflight/redisCommandUses';

const context: UseContext = { key: 'p:k', namespace: 'p:', cluster: false, db: 0, authenticates: false };

it('derives the version bar from the commands this setup sends: 7.0.0, for the lease script’s SET', () => {
  expect(minimumVersion(context)).toEqual({ version: '7.0.0', command: 'set' });
  // CLIENT SETINFO is 7.2+, but ioredis tolerates its absence: it does not raise the bar.
  expect(COMMAND_USES.client.need(context)).toBe('tolerated');
});

it('sends CLUSTER only to a cluster, SELECT only for a database number, AUTH only with credentials', () => {
  expect(COMMAND_USES.cluster.need(context)).toBeNull();
  expect(COMMAND_USES.cluster.need({ ...context, cluster: true })).toBe('required');
  expect(COMMAND_USES.select.need(context)).toBeNull();
  expect(COMMAND_USES.select.need({ ...context, db: 3 })).toBe('required');
  expect(COMMAND_USES.auth.need({ ...context, authenticates: true })).toBe('required');
});

it('compares versions numerically', () => {
  expect(olderThan('6.2.14', '7.0.0')).toBe(true);
  expect(olderThan('7.0.15', '7.0.0')).toBe(false);
  expect(olderThan('7.0.0', '7.0.0')).toBe(false);
  expect(olderThan('7.9.0', '7.10.0')).toBe(true);
});

it('names subcommand rules for CLUSTER and CLIENT, so a fix grants no more than was refused', () => {
  expect(ruleFor(['cluster', 'info'])).toBe('+cluster|info');
  expect(ruleFor(['client', 'setinfo', 'lib-name', 'x'])).toBe('+client|setinfo');
  expect(ruleFor(['evalsha', 'abc', 1, 'k'])).toBe('+evalsha');
});
