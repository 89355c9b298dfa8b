// Copies the browser files of the npm packages Siyu uses into
// src/siyu/web/static/vendor/, so pages are served locally (never from a CDN).
// Run by `npm run build` after `npm ci`; the vendor folder is not committed.
import { copyFileSync, mkdirSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "src", "siyu", "web", "static", "vendor");
const require = createRequire(join(root, "package.json"));

const files = [
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["alpinejs/dist/cdn.min.js", "alpine.min.js"],
  ["echarts/dist/echarts.min.js", "echarts.min.js"],
  ["modern-normalize/modern-normalize.css", "modern-normalize.css"],
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const versions = {};
for (const [source, target] of files) {
  const pkg = source.startsWith("@") ? source.split("/").slice(0, 2).join("/") : source.split("/")[0];
  const path = join(root, "node_modules", source);
  if (!existsSync(path)) {
    console.error(`missing ${path}: run \`npm ci\` first`);
    process.exit(1);
  }
  copyFileSync(path, join(out, target));
  versions[target] = `${pkg}@${require(`${pkg}/package.json`).version}`;
}
writeFileSync(join(out, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`vendored ${files.length} files into ${out}`);
