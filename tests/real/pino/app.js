'use strict'
// A small Node HTTP service logging with pino, the way pino-http and Fastify do: one child
// logger per request carrying the serialised `req`, then `res` and `responseTime` when it is
// done, and errors through pino's `err` serializer (type, message, stack). Levels are pino's
// numbers (30 info, 40 warn, 50 error) and `time` is epoch milliseconds.
//
// It serves on 127.0.0.1 (a port the OS picks), sends itself the requests in REQUESTS with the
// secrets given on the command line, logs them, and exits.
//
// Usage: node app.js LOG_FILE BEARER_TOKEN COOKIE_VALUE EMAIL

const http = require('node:http')
const os = require('node:os')
const pino = require('pino')

const [logFile, token, cookie, email] = process.argv.slice(2)

const logger = pino(
  {
    base: { service: 'pino-shop', pid: process.pid, hostname: os.hostname() },
    serializers: {
      req: pino.stdSerializers.req,
      res: pino.stdSerializers.res,
      err: pino.stdSerializers.err
    }
  },
  pino.destination({ dest: logFile, sync: true })
)

// [path, status]: /fail throws, /missing is a 404, the rest succeed.
const REQUESTS = [
  ['/items', 200],
  ['/items?email=' + email, 200],
  ['/missing', 404],
  ['/fail', 500],
  ['/items/42', 200]
]

let nextId = 1

function handle (req, res) {
  req.id = `req-${nextId++}`
  const started = process.hrtime.bigint()
  const log = logger.child({ req })
  log.info('request received')
  try {
    if (req.url === '/fail') {
      throw new TypeError('price is not a number: undefined')
    }
    if (req.url === '/missing') {
      res.statusCode = 404
      log.warn('no route for request')
    } else {
      res.statusCode = 200
    }
    res.end('ok')
  } catch (err) {
    res.statusCode = 500
    res.end('error')
    log.error({ err }, 'request failed')
  }
  const responseTime = Number(process.hrtime.bigint() - started) / 1e6
  log.info({ res, responseTime }, 'request completed')
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
  logger.info({ port }, 'listening')
  for (const [path, status] of REQUESTS) {
    const got = await get(port, path)
    if (got !== status) throw new Error(`${path}: expected ${status}, got ${got}`)
  }
  await new Promise((resolve) => server.close(resolve))
  logger.info('server closed')
}

main().catch((err) => {
  logger.fatal({ err }, 'crashed')
  process.exitCode = 1
})
