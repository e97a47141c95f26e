// The local explorer: GraphiQL with the README's examples as tabs, mounted into #explorer.
// Loaded by /graphiql directly, and by the landing page at /graphql when Sandbox cannot be loaded.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { createRoot } from 'react-dom/client';
import { readConfig } from './config';
import './explorer.css';
import { setUpWorkers } from './workers';

const config = readConfig();
setUpWorkers(config);

const root = document.getElementById('explorer');
if (!root) throw new Error('explorer: no #explorer element in the page');
root.hidden = false;

const fetcher = createGraphiQLFetcher({ url: new URL(config.endpoint, location.href).href });

createRoot(root).render(
  <>
    <p className="explorer-notice" data-testid="explorer-notice">
      {config.notice}
    </p>
    <GraphiQL
      fetcher={fetcher}
      defaultTabs={config.tabs.map(({ query, headers }) => ({ query, headers }))}
      defaultHeaders={config.defaultHeaders}
      defaultEditorToolsVisibility={config.defaultHeaders ? 'headers' : undefined}
    />
  </>,
);
