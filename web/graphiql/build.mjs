// Bundles src/index.jsx into one minified graphiql.js and one graphiql.css, written into the Python package.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const out = fileURLToPath(new URL("../../src/livegql/transport/static/graphiql/", import.meta.url));

await build({
  entryPoints: { graphiql: "src/index.jsx" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  legalComments: "linked",
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".woff2": "file", ".woff": "file", ".svg": "dataurl" },
  outdir: out,
  logLevel: "info",
});
