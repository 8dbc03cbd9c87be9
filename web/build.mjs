// Bundles the dashboard (src/main.ts and everything it imports, node_modules included) into one
// minified app.js with esbuild, and copies index.html and style.css beside it: no CDN, works
// offline. Usage: node build.mjs [OUT_DIR] (default: dist). The server's Maven build calls
// build.sh, which runs this into the jar's /dashboard resources.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2] ?? "dist";
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2022"],
  format: "esm",
  outfile: join(out, "app.js"),
  logLevel: "warning",
});
for (const f of ["index.html", "style.css"]) {
  copyFileSync(join("static", f), join(out, f));
}
console.log(`dashboard built into ${out}`);
