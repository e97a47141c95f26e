// The landing page at GET /graphql: Apollo Sandbox from Apollo's CDN when it can be loaded, else the
// local explorer, on its own. Offline the script fails within milliseconds (the name does not
// resolve); behind a firewall that drops packets it may hang, hence the timeout.
import { readConfig } from './config';

const config = readConfig();
const sandbox = config.sandbox;
if (!sandbox) throw new Error('landing page: no sandbox settings');

let settled = false;
const loading = document.getElementById('sandbox-loading');
const timer = setTimeout(fallBack, sandbox.timeoutMs);

const script = document.createElement('script');
script.src = sandbox.scriptUrl;
script.onload = () => {
  if (settled) return; // too late: the local explorer already took over
  settled = true;
  clearTimeout(timer);
  loading?.remove();
  const EmbeddedSandbox = (window as unknown as { EmbeddedSandbox: new (options: object) => unknown })
    .EmbeddedSandbox;
  new EmbeddedSandbox({ ...sandbox.options, target: '#sandbox', initialEndpoint: endpoint() });
};
script.onerror = fallBack;
document.head.append(script);

function endpoint(): string {
  return new URL(config.endpoint, location.href).href;
}

function fallBack(): void {
  if (settled) return;
  settled = true;
  clearTimeout(timer);
  script.remove();
  loading?.remove();
  document.getElementById('sandbox')?.remove();
  const style = document.createElement('link');
  style.rel = 'stylesheet';
  style.href = `${config.assets}explorer.css`;
  const explorer = document.createElement('script');
  explorer.type = 'module';
  explorer.src = `${config.assets}explorer.js`;
  document.head.append(style, explorer);
}
