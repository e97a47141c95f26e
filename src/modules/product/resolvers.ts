// Thin product resolvers: parse the arguments, call a loader or the service.
import { parseId } from '../../graphql/input';
import type { Resolvers } from '../../generated/graphql';

export const productResolvers: Resolvers = {
  Query: {
    product: (_, { id }, { loaders }) => loaders.productById.load(parseId(id, 'id')),
    products: (_, { filter, first, after }, { services, loaders }) =>
      services.products.page(filter, first ?? 20, after, loaders.productChunks),
  },
  Mutation: {
    createProduct: (_, { input }, { services }) => services.products.create(input),
    updateProduct: (_, { id, input }, { services }) => services.products.update(id, input),
    deleteProduct: (_, { id }, { services }) => services.products.delete(id),
  },
  Product: {
    barcodes: (product, _, { loaders }) => loaders.barcodesOfProduct(product),
  },
  ProductConnection: {
    totalCount: (page) => page.count(),
  },
};
