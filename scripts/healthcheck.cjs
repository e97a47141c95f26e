#!/usr/bin/env node
// The Docker image's HEALTHCHECK: exit 0 when GET /healthz on this container's port answers 200,
// 1 otherwise (within 4 s, under the HEALTHCHECK's --timeout). Node's own fetch, because the
// runtime image has no curl or wget. /healthz, not /readyz: a container whose database is briefly
// down is still healthy and must not be restarted for it (/readyz is for load balancers).
// PORT as the server reads it (the image sets 4000). Plain CommonJS, Node's built-ins only.
'use strict';
const port = process.env.PORT || '4000';

fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) })
  .then((response) => {
    if (response.status !== 200) console.error(`/healthz answered ${response.status}`);
    process.exitCode = response.status === 200 ? 0 : 1;
  })
  .catch((error) => {
    console.error(`/healthz unreachable on port ${port}: ${error.message}`);
    process.exitCode = 1;
  });
