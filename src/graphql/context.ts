// The per-request context: parsed headers and fresh loaders, no I/O. (Apollo fails the whole
// request when the context function throws, so nothing here may touch the network.)
import type { Cache } from '../cache/createCache';
import type { BarcodeService } from '../modules/barcode/service';
import type { ProductService } from '../modules/product/service';
import type { Loaders } from './loaders';

export interface Services {
  readonly barcodes: BarcodeService;
  readonly products: ProductService;
}

export interface Context {
  readonly loaders: Loaders;
  readonly services: Services;
  readonly cache: Cache;
  /**
   * Whether the request carried a valid write token (or writes are open because API_TOKEN is
   * unset). A function so that reads, the hot path, never pay for hashing the header.
   */
  readonly canWrite: () => boolean;
}
