// Preloaded (NODE_OPTIONS=--require) into every Node.js process that
// test/node24/run.sh starts: one that is not the Node.js 24 it resolved stops
// at once, so no test passes on another runtime by mistake.
if (process.version !== process.env.NODE24_VERSION) {
  process.stderr.write(`test:node24: this process runs Node.js ${process.version} (${process.execPath}), not ${process.env.NODE24_VERSION}\n`);
  process.exit(1);
}
