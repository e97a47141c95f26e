// The contract every cache backend must pass: plain reads and writes, the lease protocol, TTLs and
// clearing by namespace. test/contract runs it for each backend; the cluster suite for Redis Cluster.
import { randomBytes } from 'node:crypto';
import type { CacheBackend } from '../../src/cache/backend';

export type Harness = { backend: CacheBackend; namespace: string; close(): Promise<void> };

export function describeCacheBackend(name: string, create: () => Promise<Harness>) {
  describe(`${name} backend`, () => {
    let h: Harness;
    let key: (suffix: string) => string;
    beforeAll(async () => {
      h = await create();
      key = (suffix) => `${h.namespace}${suffix}`;
    });
    afterAll(() => h.close());

    it('gets null for a missing key, then what was set, then null after delete', async () => {
      const k = key('plain');
      expect(await h.backend.get([k])).toEqual([null]);
      await h.backend.set(k, 'value-1', 60);
      expect(await h.backend.get([k, key('absent')])).toEqual(['value-1', null]);
      await h.backend.delete([k]);
      expect(await h.backend.get([k])).toEqual([null]);
    });

    it('answers readLeased in key order, leasing misses and sharing a lease between readers', async () => {
      const [hit, miss] = [key('hit'), key('miss')];
      await h.backend.set(hit, 'cached', 60);
      const first = await h.backend.readLeased([hit, miss, hit]);
      expect(first[0]).toEqual({ value: 'cached' });
      expect(first[2]).toEqual({ value: 'cached' });
      const lease = (first[1] as { lease: string }).lease;
      expect(typeof lease).toBe('string');
      const second = await h.backend.readLeased([miss]);
      expect(second).toEqual([{ lease }]);
      expect(await h.backend.get([miss])).toEqual([null]); // a lease is not a value
    });

    it('fills a key whose lease still stands, once', async () => {
      const k = key('fill');
      const [read] = await h.backend.readLeased([k]);
      const lease = (read as { lease: string }).lease;
      await h.backend.fillLeased([{ key: k, lease, value: 'from-db', ttlSeconds: 60 }]);
      await h.backend.fillLeased([{ key: k, lease, value: 'late-duplicate', ttlSeconds: 60 }]);
      expect(await h.backend.readLeased([k])).toEqual([{ value: 'from-db' }]);
    });

    it('ignores a fill whose lease was voided by a delete (the stale-set race)', async () => {
      const k = key('race');
      const [read] = await h.backend.readLeased([k]);
      const staleLease = (read as { lease: string }).lease;
      await h.backend.delete([k]); // a write committed and invalidated
      await h.backend.fillLeased([{ key: k, lease: staleLease, value: 'old-row', ttlSeconds: 60 }]);
      expect(await h.backend.get([k])).toEqual([null]);
      const [again] = await h.backend.readLeased([k]);
      expect(again).not.toEqual({ value: 'old-row' });
      expect((again as { lease: string }).lease).not.toBe(staleLease);
    });

    it('ignores a fill with a lease it was never given', async () => {
      const k = key('forged');
      await h.backend.readLeased([k]);
      await h.backend.fillLeased([{ key: k, lease: 'lease:forged', value: 'x', ttlSeconds: 60 }]);
      expect(await h.backend.get([k])).toEqual([null]);
    });

    it('expires values after their TTL', async () => {
      const k = key('ttl');
      await h.backend.set(k, 'short', 1);
      expect(await h.backend.get([k])).toEqual(['short']);
      await new Promise((r) => setTimeout(r, 1100));
      expect(await h.backend.get([k])).toEqual([null]);
    });

    it('clears only its namespace', async () => {
      const other = `${h.namespace}other-ns:`;
      const outside = `bc-outside-${randomBytes(3).toString('hex')}:k`;
      await h.backend.set(key('c1'), '1', 60);
      await h.backend.set(key('c2'), '2', 60);
      await h.backend.set(outside, 'keep', 60);
      expect(await h.backend.clear(h.namespace)).toBeGreaterThanOrEqual(2);
      expect(await h.backend.get([key('c1'), key('c2'), `${other}x`])).toEqual([null, null, null]);
      expect(await h.backend.get([outside])).toEqual(['keep']);
      await h.backend.delete([outside]);
    });

    it('answers ping', async () => {
      await expect(h.backend.ping()).resolves.toBeUndefined();
    });
  });
}
