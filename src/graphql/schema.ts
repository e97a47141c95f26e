// Schema assembly: the SDL files of each module (read from beside the running code; the build
// copies them into dist/) and their resolvers, plus the scalars from graphql-scalars; every
// resolver that takes arguments checks them at the input boundary first (inputBoundary.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DateTimeResolver, NonNegativeIntResolver } from 'graphql-scalars';
import type { Resolvers } from '../generated/graphql';
import { barcodeInputLimits } from '../modules/barcode/inputLimits';
import { barcodeResolvers } from '../modules/barcode/resolvers';
import { cacheStatsResolvers } from '../modules/cacheStats/resolvers';
import { productInputLimits } from '../modules/product/inputLimits';
import { productResolvers } from '../modules/product/resolvers';
import { guardResolvers, type InputLimits } from './inputBoundary';

const SDL_FILES = [
  'graphql/base.graphql',
  'modules/barcode/barcode.graphql',
  'modules/product/product.graphql',
  'modules/cacheStats/cacheStats.graphql',
];

export function loadTypeDefs(): string[] {
  return SDL_FILES.map((file) => readFileSync(path.join(__dirname, '..', file), 'utf8'));
}

export const inputLimits: InputLimits = { ...barcodeInputLimits, ...productInputLimits };

export const resolvers: Resolvers[] = guardResolvers(
  loadTypeDefs(),
  [
    { DateTime: DateTimeResolver, NonNegativeInt: NonNegativeIntResolver },
    barcodeResolvers,
    productResolvers,
    cacheStatsResolvers,
  ],
  inputLimits,
);
