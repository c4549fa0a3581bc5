// Checks the generated API site (docs/api): every local link of every HTML page points to a
// file that exists, and every #anchor to an id on that page. TypeDoc validates {@link} tags
// itself; this catches what it does not (README links rewritten into the site, media).
// Usage: node .ci/check-doc-links.mjs [site folder]; exit code 1 with one line per broken link.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const site = resolve(process.argv[2] ?? 'docs/api');
if (!existsSync(join(site, 'index.html'))) {
  console.error(`check-doc-links: ${site}/index.html not found; run pnpm run docs first`);
  process.exit(2);
}
const pages = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.html')) pages.push(path);
  }
};
walk(site);
const ids = new Map();
const idsOf = (page) => {
  if (!ids.has(page)) {
    const html = readFileSync(page, 'utf8');
    ids.set(page, new Set([...html.matchAll(/\s(?:id|name)="([^"]+)"/g)].map((m) => m[1])));
  }
  return ids.get(page);
};
const broken = [];
let checked = 0;
for (const page of pages) {
  const html = readFileSync(page, 'utf8');
  for (const [, url] of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) continue; // external
    checked += 1;
    const [path, anchor] = url.split('#');
    const target = path === '' ? page : resolve(dirname(page), decodeURIComponent(path));
    if (!existsSync(target)) {
      broken.push(`${relative(site, page)}: ${url} (no such file)`);
    } else if (
      anchor &&
      target.endsWith('.html') &&
      !idsOf(target).has(decodeURIComponent(anchor))
    ) {
      // TypeDoc's own anchors for headings are made by its client-side script; only check
      // anchors of members (their ids are in the HTML).
      if (!/^(md:|md-)/.test(anchor))
        broken.push(`${relative(site, page)}: ${url} (no such anchor)`);
    }
  }
}
for (const line of broken) console.error(`broken link: ${line}`);
console.log(
  `check-doc-links: ${pages.length} pages, ${checked} local links, ${broken.length} broken`,
);
process.exit(broken.length === 0 ? 0 : 1);
