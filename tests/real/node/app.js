'use strict'
// A small Node HTTP service logging its requests with bunyan or winston, both as Debian packages
// them (node-bunyan, node-winston: found under /usr/share/nodejs, so run with
// NODE_PATH=/usr/share/nodejs when node itself is not Debian's). Nothing comes from npm.
//
// bunyan: bunyan's own record (`name`, `hostname`, `pid`, numeric `level` 30/40/50, `msg`,
// ISO `time`, `v`), one child logger per request carrying `req_id`, the standard serializers
// for `req`, `res` and `err` (name, message, stack), and `latency` in ms as restify's audit
// logger writes it.
// winston: `format.json()` after `format.timestamp()` and `format.errors({ stack: true })`, the
// service in `defaultMeta`: level words, `message`, ISO `timestamp`, an error's `stack`.
//
// It serves on 127.0.0.1 (a port the OS picks), sends itself the requests in REQUESTS with the
// secrets given on the command line, logs them, waits until the log file is written, and exits.
//
// Usage: node app.js bunyan|winston LOG_FILE BEARER_TOKEN COOKIE_VALUE EMAIL

const fs = require('node:fs')
const http = require('node:http')

const [library, logFile, token, cookie, email] = process.argv.slice(2)

// [path, status]: /fail throws, /missing is a 404, the rest succeed.
const REQUESTS = [
  ['/items', 200],
  ['/items?email=' + email, 200],
  ['/missing', 404],
  ['/fail', 500],
  ['/items/42', 200]
]

const out = fs.createWriteStream(logFile)

// The same calls for both libraries: info/warn/error with fields, a child per request.
function makeLogger () {
  if (library === 'bunyan') {
    const bunyan = require('bunyan')
    const log = bunyan.createLogger({
      name: 'node-shop',
      level: 'info',
      stream: out,
      serializers: bunyan.stdSerializers
    })
    return {
      child: (fields) => log.child(fields),
      info: (logger, msg, fields) => logger.info(fields || {}, msg),
      warn: (logger, msg, fields) => logger.warn(fields || {}, msg),
      error: (logger, msg, err) => logger.error({ err }, msg),
      root: log,
      close: () => Promise.resolve()
    }
  }
  if (library === 'winston') {
    const winston = require('winston')
    const log = winston.createLogger({
      level: 'info',
      format: winston.format.combine(
        winston.format.timestamp(),
        winston.format.errors({ stack: true }),
        winston.format.json()
      ),
      defaultMeta: { service: 'node-shop' },
      transports: [new winston.transports.Stream({ stream: out })]
    })
    return {
      child: (fields) => log.child(fields),
      info: (logger, msg, fields) => logger.info(msg, fields || {}),
      warn: (logger, msg, fields) => logger.warn(msg, fields || {}),
      // format.errors copies the error's message and stack into the record.
      error: (logger, msg, err) => logger.error(err),
      root: log,
      close: () => new Promise((resolve) => { log.on('finish', resolve); log.end() })
    }
  }
  throw new Error(`unknown library ${library}: bunyan or winston`)
}

const L = makeLogger()
let nextId = 1

function handle (req, res) {
  const log = L.child({ req_id: `req-${nextId++}` })
  const started = process.hrtime.bigint()
  const fields = { req: library === 'bunyan' ? req : summary(req) }
  L.info(log, 'request received', fields)
  try {
    if (req.url === '/fail') {
      throw new TypeError('price is not a number: undefined')
    }
    if (req.url === '/missing') {
      res.statusCode = 404
      L.warn(log, 'no route for request', fields)
    } else {
      res.statusCode = 200
    }
    res.end('ok')
  } catch (err) {
    res.statusCode = 500
    res.end('error')
    L.error(log, 'request failed', err)
  }
  const latency = Number(process.hrtime.bigint() - started) / 1e6
  const response = library === 'bunyan' ? res : { statusCode: res.statusCode }
  L.info(log, 'request completed', { ...fields, res: response, latency })
}

// winston has no serializers: what a winston app logs of a request is what it picks.
function summary (req) {
  return { method: req.method, url: req.url, headers: req.headers }
}

function get (port, path) {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}`, cookie: `session=${cookie}` }
    http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    }).on('error', reject)
  })
}

async function main () {
  const server = http.createServer(handle)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  L.info(L.root, 'listening', { port })
  for (const [path, status] of REQUESTS) {
    const got = await get(port, path)
    if (got !== status) throw new Error(`${path}: expected ${status}, got ${got}`)
  }
  await new Promise((resolve) => server.close(resolve))
  L.info(L.root, 'server closed')
  await L.close()
  await new Promise((resolve) => out.end(resolve))
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
