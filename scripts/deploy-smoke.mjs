#!/usr/bin/env node
// The deployment check's requests to a running server (scripts/deploy-check.sh):
//   node scripts/deploy-smoke.mjs <base-url> <api-token>
// Waits for GET /readyz to answer 200 (at most 60 s), then: a lookup of a code nobody created
// (null), a write without the token (refused with UNAUTHENTICATED), the authorized write of a
// product with one barcode, and the lookup of that barcode by another of its forms (its product
// comes back). Prints one line per check with what came back; exits 1 at the first wrong answer.
// Node's built-ins only (fetch): it runs against a production install, which has no test tools.
const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error('Usage: node scripts/deploy-smoke.mjs <base-url> <api-token>');
  process.exit(2);
}

const CODE = '4006381333931'; // EAN-13 with a valid check digit; 04006381333931 is its GTIN-14
const SKU = `DEPLOY-CHECK-${process.pid}`;

function fail(what, answer) {
  console.error(`❌ ${what}: got ${JSON.stringify(answer)}`);
  process.exit(1);
}

async function waitUntilReady(deadline = Date.now() + 60_000) {
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return await response.json();
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return fail('GET /readyz did not answer 200 within 60 s', last);
}

async function graphql(query, headers = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

const ready = await waitUntilReady();
if (ready.cache?.backend !== 'REDIS' || ready.cache?.degraded !== false) {
  fail('/readyz: expected cache { backend: REDIS, degraded: false }', ready);
}
console.log(`✅ GET /readyz 200, cache ${JSON.stringify(ready.cache)}`);

const lookup = `{ barcode(code: "0${CODE}") { code gtin product { sku name } } }`;
const before = await graphql(lookup);
if (before.status !== 200 || before.body.data?.barcode !== null || before.body.errors) {
  fail(`lookup of ${CODE} before the write: expected barcode null`, before);
}
console.log(`✅ lookup of an unknown code: barcode null`);

const create = `mutation { createProduct(input: { sku: "${SKU}", name: "Deploy check", priceCents: 100,
  barcodes: [{ code: "${CODE}" }] }) { sku barcodes { code gtin symbology } } }`;
const refused = await graphql(create);
if (refused.body.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED' || refused.body.data?.createProduct) {
  fail('write without a token: expected UNAUTHENTICATED', refused);
}
console.log(`✅ write without a token: ${refused.body.errors[0].extensions.code}`);

const created = await graphql(create, { authorization: `Bearer ${token}` });
const product = created.body.data?.createProduct;
if (created.body.errors || product?.sku !== SKU || product.barcodes?.[0]?.gtin !== `0${CODE}`) {
  fail(`authorized createProduct ${SKU}`, created);
}
console.log(`✅ authorized write: createProduct ${SKU} with ${CODE} (${product.barcodes[0].symbology})`);

const after = await graphql(lookup);
if (after.body.errors || after.body.data?.barcode?.product?.sku !== SKU) {
  fail(`lookup of 0${CODE} after the write: expected product ${SKU}`, after);
}
console.log(`✅ lookup of 0${CODE} (GTIN-14 form): product ${after.body.data.barcode.product.sku}`);
