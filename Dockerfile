# The production image. The build stage runs the README's production install (npm ci, npm run
# build, npm prune --omit=dev); the runtime stage holds only what the server reads at run time,
# runs as the unprivileged `node` user, and answers its HEALTHCHECK from /healthz.
# There is no Docker engine in CI: scripts/deploy-check.sh reads this file (scripts/deploy-plan.cjs),
# runs the build stage's RUN commands, lays out the runtime stage's COPY lines in a directory of
# their own and runs the checklist, the CMD and the HEALTHCHECK there. What that does and does not
# test: docs/production.md, "The Docker image". One instruction per line (the plan reader needs it).
# Node 20 as on the machines CI runs on (package.json engines: >= 20.19).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# The manifests first, so that a source change does not reinstall the dependencies.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
RUN npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
ENV PORT=4000
WORKDIR /app
# Owned by root and read-only for the server's user: nothing here is written at run time.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/scripts/ensure-built.cjs ./scripts/ensure-built.cjs
COPY --from=build /app/scripts/healthcheck.cjs ./scripts/healthcheck.cjs
USER node
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.cjs"]
CMD ["node", "dist/main.js"]
