// Bundles the page into ../../src/livegql/demo/static (served by `livegql demo`, shipped in the wheel):
// one app.js with graphql-ws and fast-json-patch inside, one app.css, and index.html copied as is.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';

const out = new URL('../../src/livegql/demo/static/', import.meta.url);
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  legalComments: 'none',
  outdir: out.pathname,
  logLevel: 'info',
});
await build({ entryPoints: { app: 'src/style.css' }, bundle: true, minify: true, outdir: out.pathname, logLevel: 'info' });
for (const name of ['index.html', 'favicon.svg']) await copyFile(new URL(`src/${name}`, import.meta.url), new URL(name, out));
