// Vite build of the OneMap web client. The output in dist/ is embedded into
// the Go binary (frontend.go), so the build must be reproducible: file names
// carry content hashes and nothing depends on the time or the machine.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { defineConfig } from 'vite';

// stripWorkerSourceMap drops the "//# sourceMappingURL=…" comment from the
// MapLibre worker, which Vite copies verbatim as an asset (imported with
// ?url): the .map file is not shipped, so the comment would point nowhere.
function stripWorkerSourceMap() {
  return {
    name: 'onemap:strip-worker-sourcemap',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'asset' || !/maplibre-gl-worker.*\.mjs$/.test(file.fileName)) continue;
        const text = typeof file.source === 'string' ? file.source : new TextDecoder().decode(file.source);
        file.source = text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
      }
    },
  };
}

// gzipFiles writes a .gz beside each text file of the build larger than 1 KiB,
// for frontend.go to serve to browsers that accept gzip. zlib writes no time
// or name into the header and the OS byte is fixed, so the output is as
// reproducible as its input.
function gzipFiles() {
  let outDir;
  return {
    name: 'onemap:gzip',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    writeBundle() {
      for (const name of fs.readdirSync(outDir, { recursive: true })) {
        const file = path.join(outDir, name);
        if (!/\.(m?js|css|html|svg|json)$/.test(name) || !fs.statSync(file).isFile()) continue;
        const data = fs.readFileSync(file);
        if (data.length <= 1024) continue;
        const gz = zlib.gzipSync(data, { level: 9 });
        gz[9] = 255; // OS "unknown": zlib writes the build host's, which varies
        fs.writeFileSync(`${file}.gz`, gz);
      }
    },
  };
}

// pages are the client's HTML entry points: the command map (/), and each
// page of its own under a folder (/m/ for the public, /editor/ for
// planners, /screen/ for the control-room wall, /audit/ for auditors) once
// its index.html exists, and /m/work/ for grid workers.
const root = path.dirname(new URL(import.meta.url).pathname);
const pages = { main: path.join(root, 'index.html') };
for (const name of ['m', 'editor', 'screen', 'audit']) {
  const file = path.join(root, name, 'index.html');
  if (fs.existsSync(file)) pages[name] = file;
}
// The grid worker's page (/m/work/), a phone page of its own beside the public one.
pages.work = path.join(root, 'm', 'work', 'index.html');

export default defineConfig({
  base: '/',
  plugins: [stripWorkerSourceMap(), gzipFiles()],
  build: {
    // ONEMAP_OUT_DIR builds elsewhere (onemap serve --static-dir serves it)
    // without touching the committed dist/.
    outDir: process.env.ONEMAP_OUT_DIR || 'dist',
    rollupOptions: {
      input: pages,
      // MapLibre, shared by the map pages, in a chunk named for it (the
      // public page loads it only when its map is opened).
      output: { manualChunks: (id) => (id.includes('/node_modules/maplibre-gl/') ? 'maplibre' : undefined) },
    },
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // maplibre-gl alone is ~1 MB minified; splitting it off buys nothing here.
    chunkSizeWarningLimit: 1500,
    assetsInlineLimit: 0,
  },
});
