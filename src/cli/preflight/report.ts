// One checklist item's outcome and how it prints: one line, ✅ / ⚠️ / ❌, a failing or warning
// line ending with its fix. Nothing here may hold a secret: items describe Redis and Postgres
// through redactUrl/describeRedis only.

export type Status = 'ok' | 'warn' | 'fail';

export interface Item {
  readonly status: Status;
  /** What was checked ("Redis ACL"), the same words in docs/operations.md's Preflight section. */
  readonly name: string;
  /** What was found. */
  readonly detail: string;
  /** What to do about it; required on 'warn' and 'fail' by the constructors below. */
  readonly fix?: string;
}

export const ok = (name: string, detail: string): Item => ({ status: 'ok', name, detail });
export const warn = (name: string, detail: string, fix: string): Item => ({
  status: 'warn',
  name,
  detail,
  fix,
});
export const fail = (name: string, detail: string, fix: string): Item => ({
  status: 'fail',
  name,
  detail,
  fix,
});

/** An item that could not run because an earlier one failed: a warning, the failure is already counted. */
export const skipped = (name: string, because: string): Item =>
  warn(name, `not checked: ${because}`, 'see the items above');

const MARKS: Record<Status, string> = { ok: '✅', warn: '⚠️', fail: '❌' };

/** Error messages can span lines (Prisma's do): an item is one line. */
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

export function formatItem({ status, name, detail, fix }: Item): string {
  return `${MARKS[status]} ${name}: ${oneLine(detail)}${fix ? ` → fix: ${oneLine(fix)}` : ''}`;
}

/** The closing line, and the exit code: 1 when any item failed. */
export function summarize(items: readonly Item[]): { line: string; code: number } {
  const count = (status: Status) => items.filter((item) => item.status === status).length;
  const [fails, warns] = [count('fail'), count('warn')];
  if (fails > 0)
    return { line: `Preflight failed: ${fails} ❌, ${warns} ⚠️ of ${items.length} items`, code: 1 };
  return {
    line: `Preflight passed: ${items.length - warns} ✅, ${warns} ⚠️ of ${items.length} items`,
    code: 0,
  };
}
