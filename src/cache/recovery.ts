// What must be true before Redis serves (at start-up and after an outage): no entry that missed
// an invalidation is left in it, neither one this instance missed nor one another instance
// journaled. The one entry point is prepareRemote().
import type { CacheBackend } from './backend';
import type { JournalSync } from './journalSync';
import type { MissedInvalidations } from './missedInvalidations';

export interface RecoveryParts {
  readonly remote: Pick<CacheBackend, 'delete' | 'clear'>;
  readonly namespace: string;
  readonly missed: MissedInvalidations;
  /** Null without a journal (one process, or PGlite). */
  readonly journal: JournalSync | null;
}

export interface Recovered {
  /** Keys this instance had missed, deleted now (or the keys cleared with the namespace). */
  readonly replayed: number;
  /** Keys (or namespaces, as 1) taken from the journal. */
  readonly journaled: number;
}

/**
 * Deletes from Redis what this instance missed, then drains the journal (all of it, waiting for
 * rows another instance is draining, so the first instance back never serves what the others
 * missed). Invalidations that arrive meanwhile are recorded too; it loops until none are left.
 * Throws what Redis threw, keeping what is left for the next attempt. A journal that Postgres
 * cannot read does not hold Redis back: it is retried in the background (./journalSync.ts).
 */
export async function prepareRemote({
  remote,
  namespace,
  missed,
  journal,
}: RecoveryParts): Promise<Recovered> {
  let replayed = 0;
  let journaled = 0;
  let journalReachable = true;
  for (;;) {
    if (missed.pending) {
      replayed += await missed.replay(remote, namespace);
    } else if (journal?.dirty && journalReachable) {
      const drained = await journal.drainBeforeServing();
      if (drained === null) journalReachable = false;
      else journaled += drained;
    } else {
      break;
    }
  }
  return { replayed, journaled };
}
