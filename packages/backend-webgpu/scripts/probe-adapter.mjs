// Asks Dawn for one adapter in a throw-away process, so that a driver which crashes or hangs
// while it is enumerated cannot take the caller down. Used by src/probe.ts.
//
//   node probe-adapter.mjs <path of the webgpu package's index.js> '<{"flags":[...],"options":{...}}>'
//
// Prints one JSON line on stdout: {"ok":true,"info":{...}} or {"ok":false,"error":"..."}.
// Dawn's own warnings go to stderr, which the caller reads to explain failures.
import { pathToFileURL } from 'node:url';

const [entry, requestJson] = process.argv.slice(2);

function answer(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

try {
  const request = JSON.parse(requestJson);
  const { create } = await import(pathToFileURL(entry).href);
  const adapter = await create(request.flags).requestAdapter(request.options);
  if (!adapter) {
    answer({ ok: false, error: 'no adapter' });
  } else {
    const { vendor, architecture, device, description, isFallbackAdapter } = adapter.info;
    answer({ ok: true, info: { vendor, architecture, device, description, isFallbackAdapter } });
  }
} catch (error) {
  answer({ ok: false, error: String(error?.message ? error.message : error).split('\n')[0] });
}
