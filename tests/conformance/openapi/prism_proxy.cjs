'use strict';
// A validating proxy for the API suite: Stoplight Prism's own router and
// validators (@stoplight/prism-http, the engine behind `prism proxy`) judge
// every request and response against docs/openapi.yaml, while the bytes go
// through unchanged.
//
// Why not `prism proxy` itself (tried first, see README.md):
//   - it parses request bodies and re-serialises them (JSON.stringify), so the
//     suite's byte-exact inputs change on the way: `1000.0` arrives as `1000`,
//     a repeated key is collapsed, malformed JSON is answered by Prism itself
//     (`{"error":{"code":"invalid_json"}}`) and never reaches betsdb;
//   - it refuses GET requests with a body, adds CORS headers and an
//     `sl-violations` header to responses;
//   - it crashes (TypeError: Invalid character in header content
//     ["sl-violations"]) on the first violation whose message holds a
//     non-Latin-1 character, which the bad-input tests send on purpose.
// Here the transport is a plain Node proxy that forwards the client's bytes
// and the server's bytes verbatim; a parsed copy of each exchange is handed to
// Prism (createInstance with its stock route, validateSecurity, validateInput
// and validateOutput; only `forward` is replaced by "the response we already
// have"), with the configuration `prism proxy --errors=false` uses.
//
// Usage: node prism_proxy.cjs SPEC UPSTREAM_URL PORT LOG_FILE [NODEID_FILE]
// Listens on 127.0.0.1:PORT. Writes one JSON line per exchange to LOG_FILE:
//   {test, method, target, status, route_found, request: [...], response: [...]}
// where request/response are Prism's validation results. NODEID_FILE, when
// given, holds the pytest node id of the running test (tests/api/conftest.py
// writes it when BETSDB_TEST_NODEID_FILE is set); each exchange is tagged
// with it. Prints "listening" on stdout once ready. SIGTERM flushes and exits.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const [specPath, upstreamUrl, portArg, logFile, nodeidFile] = process.argv.slice(2);
if (!specPath || !upstreamUrl || !portArg || !logFile) {
  console.error('usage: node prism_proxy.cjs SPEC UPSTREAM_URL PORT LOG_FILE [NODEID_FILE]');
  process.exit(2);
}

// Ajv checks `multipleOf` by float division, so valid odds such as 2.05
// (2.05 / 0.01 = 204.99999999999997) would be reported as violations of the
// spec's `multipleOf: 0.01`. Ajv's documented remedy is `multipleOfPrecision`;
// Prism does not expose it, so it is set here on the Ajv classes Prism loads,
// before Prism builds its instances. 9 digits is exact for odds up to 1000.00
// (the float error of value/0.01 is ~1e-11) and still rejects 2.105.
const prismValidators = path.dirname(require.resolve('@stoplight/prism-http/dist/validator/validators/utils.js'));
for (const name of ['ajv', 'ajv/dist/2019', 'ajv/dist/2020']) {
  const mod = require(require.resolve(name, { paths: [prismValidators] }));
  const Original = mod.default;
  class PreciseAjv extends Original {
    constructor(opts = {}) {
      super({ multipleOfPrecision: 9, ...opts });
    }
  }
  mod.default = PreciseAjv;
}

const { createInstance, getHttpOperationsFromSpec } = require('@stoplight/prism-http');
const { createLogger } = require('@stoplight/prism-core');
const TE = require('fp-ts/TaskEither');
const typeIs = require('type-is');

const upstream = new URL(upstreamUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const log = fs.createWriteStream(logFile, { flags: 'a' });
// Prism's own log lines (which operation matched, ...) are not needed: silent.
const logger = createLogger('PROXY', { level: 'silent' });

// Request bodies are validated as Prism's server would parse them; response
// bodies as Prism's forwarder would (JSON for JSON media types, else text).
function isJson(contentType) {
  return !!contentType && !!typeIs.is(contentType, ['application/json', 'application/*+json']);
}

function parseBody(buffer, contentType) {
  const text = buffer.toString('utf8');
  if (!isJson(contentType)) return { body: text };
  try {
    return { body: JSON.parse(text) };
  } catch (err) {
    // Kept as the raw string: the validator then reports a type mismatch.
    return { body: text, unparsable: String(err.message) };
  }
}

function queryOf(searchParams) {
  const query = {};
  for (const key of new Set(searchParams.keys())) {
    const values = searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0] : values;
  }
  return query;
}

function currentTest() {
  if (!nodeidFile) return null;
  try {
    return fs.readFileSync(nodeidFile, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

const SEVERITY = ['error', 'warning', 'info', 'hint'];

function plain(validations) {
  return validations.map((v) => ({
    severity: SEVERITY[v.severity] ?? String(v.severity),
    code: v.code === undefined ? null : String(v.code),
    path: v.path ?? [],
    message: v.message,
  }));
}

// Hop-by-hop headers are the two connections' business, not the message's.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade']);

function rawHeadersWithout(raw, drop) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!drop.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

let pending = 0;
let closing = false;

async function main() {
  const operations = await getHttpOperationsFromSpec(path.resolve(specPath));
  const config = {
    validateRequest: true,
    validateResponse: true,
    checkSecurity: true,
    errors: false,
    upstreamProxy: undefined,
    isProxy: true,
    upstream,
    mock: { dynamic: false },
  };

  async function judge(exchange) {
    const { input, output } = exchange;
    let captured = output;
    const prism = createInstance(config, {
      logger,
      forward: () => () => TE.right(captured),
    });
    let judgeError = null;
    let result;
    try {
      result = await prism.request(input, operations, config)();
    } catch (err) {
      // Prism throws on some malformed requests instead of reporting them
      // (a Content-Type of `json`: "Could not parse MIME type string"). The
      // response is still judged, without the request's validation.
      judgeError = `request not validated: ${err && err.message}`;
      result = await prism.request(input, operations, { ...config, validateRequest: false })();
    }
    if (result._tag === 'Left') {
      return { error: String(result.left && (result.left.message || result.left)), request: [], response: [] };
    }
    const { validations } = result.right;
    const request = plain(validations.input);
    const routeFound = !request.some((v) => v.message === 'Selected route not found');
    const response = plain(validations.output);
    if (exchange.unparsableResponse) {
      response.push({ severity: 'error', code: 'json', path: ['response', 'body'],
        message: `Response body is not valid JSON: ${exchange.unparsableResponse}` });
    }
    const verdict = { route_found: routeFound, request, response };
    if (judgeError) verdict.judge_error = judgeError;
    if (request.length || response.length) {
      // Enough of the exchange to see why, without a second run.
      verdict.request_body = exchange.rawRequestBody.slice(0, 500);
      verdict.response_body = exchange.rawResponseBody.slice(0, 500);
    }
    return verdict;
  }

  const server = http.createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
    pending += 1;
    const test = currentTest();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const reqBody = Buffer.concat(chunks);
      const headers = rawHeadersWithout(req.rawHeaders, HOP_BY_HOP);
      const forwarded = http.request({
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
        maxHeaderSize: 1024 * 1024,
      });
      if (reqBody.length > 0 || req.headers['content-length'] !== undefined) {
        // Same bytes, framed by Content-Length (the client's, if it sent one).
        if (req.headers['content-length'] === undefined) forwarded.setHeader('Content-Length', reqBody.length);
      }
      forwarded.on('response', (up) => {
        res.writeHead(up.statusCode, up.statusMessage, rawHeadersWithout(up.rawHeaders, HOP_BY_HOP));
        res.flushHeaders();
        const respChunks = [];
        let size = 0;
        up.on('data', (c) => {
          res.write(c);
          // An open event stream may run long: keep the first 1 MiB for the judge.
          if (size < 1024 * 1024) respChunks.push(c);
          size += c.length;
        });
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          res.end();
          record(req, reqBody, test, up, Buffer.concat(respChunks));
        };
        up.on('end', finish);
        up.on('close', finish);
        // The client hung up (an SSE test closing its stream): stop the upstream too.
        res.on('close', () => { if (!up.complete) up.destroy(); });
        up.on('error', () => {});
      });
      forwarded.on('error', (err) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'Content-Type': 'text/plain' });
        }
        res.end(`prism_proxy: upstream error: ${err.message}\n`);
        writeLine({ test, method: req.method, target: req.url, status: null, proxy_error: err.message });
        done();
      });
      forwarded.end(reqBody);
    });
  });

  function record(req, reqBody, test, up, respBody) {
    const { pathname, searchParams } = new URL(req.url, 'http://proxy.invalid');
    const reqContentType = req.headers['content-type'];
    const hasBody = !(req.headers['content-length'] === '0'
      || (req.headers['transfer-encoding'] === undefined && req.headers['content-length'] === undefined));
    const input = {
      method: req.method.toLowerCase(),
      url: { path: pathname, query: queryOf(searchParams) },
      headers: req.headers,
      body: hasBody ? parseBody(reqBody, reqContentType).body : null,
    };
    const respType = up.headers['content-type'];
    const parsed = up.statusCode === 204 ? { body: '' } : parseBody(respBody, respType);
    const outHeaders = {};
    for (const [k, v] of Object.entries(up.headers)) outHeaders[k] = Array.isArray(v) ? v.join(',') : v;
    const exchange = {
      input,
      output: { statusCode: up.statusCode, headers: outHeaders, body: parsed.body },
      unparsableResponse: parsed.unparsable,
      rawRequestBody: reqBody.toString('utf8'),
      rawResponseBody: respBody.toString('utf8'),
    };
    judge(exchange).then((verdict) => {
      writeLine({ test, method: req.method, target: req.url, status: up.statusCode, ...verdict });
    }, (err) => {
      writeLine({ test, method: req.method, target: req.url, status: up.statusCode, error: String(err && err.stack) });
    }).finally(done);
  }

  function writeLine(obj) {
    log.write(JSON.stringify(obj) + '\n');
  }

  function done() {
    pending -= 1;
    if (closing && pending === 0) shutdown();
  }

  function shutdown() {
    log.end(() => process.exit(0));
  }

  // The suite's requests are answered by now; let in-flight verdicts finish
  // (bounded), then flush the log.
  process.on('SIGTERM', () => {
    closing = true;
    server.close();
    agent.destroy();
    if (pending === 0) shutdown();
    setTimeout(shutdown, 10000).unref();
  });

  server.keepAliveTimeout = 60000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.listen(Number(portArg), '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
