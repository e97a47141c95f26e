// README.md and docs/ point only at things that exist: every relative link (file and, where given,
// heading anchor) and every `npm run <script>` they tell a reader to type.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '../..');
const documents = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const scripts = Object.keys(
  (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: object }).scripts,
);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const withoutFences = markdown.replace(/^```[\s\S]*?^```/gm, '');
  const headings = [...withoutFences.matchAll(/^#{1,6} +(.+)$/gm)].map((m) => m[1]!);
  return new Set(
    headings.map((heading) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe.each(documents)('%s', (document) => {
  const text = readFileSync(path.join(root, document), 'utf8');

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue; // http:, https:, mailto:
      const [file, anchor] = target!.split('#') as [string, string | undefined];
      const resolved = file === '' ? document : path.join(path.dirname(document), file);
      if (!existsSync(path.join(root, resolved))) {
        broken.push(`${target} (no file ${resolved})`);
        continue;
      }
      if (anchor && resolved.endsWith('.md')) {
        const anchors = anchorsOf(readFileSync(path.join(root, resolved), 'utf8'));
        if (!anchors.has(anchor)) broken.push(`${target} (no heading #${anchor} in ${resolved})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('names only npm scripts that package.json has', () => {
    const named = [...text.matchAll(/npm run ([a-z][\w-]*(?::[\w-]+)*)/g)].map((m) => m[1]!);
    expect(named.filter((name) => !scripts.includes(name))).toEqual([]);
  });
});
