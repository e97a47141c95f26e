// How log lines and cacheStats name the backends ("External Redis Cache", "Database Cache").
import type { BackendName, CacheBackend } from './backend';

const DISPLAY_NAMES: Record<BackendName, string> = {
  redis: 'External Redis Cache',
  database: 'Database Cache',
  memory: 'In-Memory Cache',
};

export interface BackendNamesOptions {
  readonly remote: CacheBackend | null;
  readonly fallback: CacheBackend | null;
  /** How log lines name the remote. @default 'External Redis Cache' */
  readonly remoteName?: string;
  /** Said next to the remote's name when it starts serving ("3 seed nodes"). */
  readonly remoteNote?: string;
}

export class BackendNames {
  constructor(private readonly options: BackendNamesOptions) {}

  /** The display name of a backend ('no cache' for none). */
  of(backend: CacheBackend | null): string {
    if (!backend) return 'no cache';
    return backend === this.options.remote ? this.remote() : DISPLAY_NAMES[backend.name];
  }

  fallback(): string {
    return this.of(this.options.fallback);
  }

  /** "External Redis Cache (BEST PERFORMANCE)", with the remote's note if any. */
  remoteServing(): string {
    const note = [this.options.remoteNote, 'BEST PERFORMANCE'].filter(Boolean).join(', ');
    return `${this.remote()} (${note})`;
  }

  private remote(): string {
    return this.options.remoteName ?? DISPLAY_NAMES.redis;
  }
}
