'use strict'
// bunyan or winston as Debian packages them (node-bunyan 2.0.5, node-winston 3.8.2), the same
// scenario as the Python generators: debug, info, an HTTP request with its duration, a warning,
// an error with its stack, an LLM call, a fatal/critical. Fake ids only.
//
// Usage: NODE_PATH=/usr/share/nodejs node node_loggers.js bunyan|winston > OUT.ndjson

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SPAN_ID = '00f067aa0ba902b7'
const library = process.argv[2]

function charge (amount) {
  if (amount > 100) {
    const err = new TypeError(`card declined for amount ${amount}`)
    err.code = 'CARD_DECLINED'
    throw err
  }
}

function caught () {
  try {
    charge(250)
  } catch (err) {
    return err
  }
}

if (library === 'bunyan') {
  const bunyan = require('bunyan')
  const log = bunyan.createLogger({ name: 'checkout', level: 'debug', serializers: bunyan.stdSerializers })
  log.debug({ workers: 2 }, 'config loaded')
  log.info('server started on 127.0.0.1:%d', 8080)
  const req = log.child({ req_id: 'req-1', trace_id: TRACE_ID, span_id: SPAN_ID })
  // What bunyan's req/res serializers take: objects shaped like node's IncomingMessage and
  // ServerResponse (bunyan reads req.connection; a fake address, no real request is made here).
  const incoming = { method: 'GET', url: '/cart?page=2', headers: { host: '127.0.0.1:8080', 'user-agent': 'curl/7.88.1' }, connection: { remoteAddress: '127.0.0.1', remotePort: 51234 } }
  req.info({ req: incoming, res: { statusCode: 200, _header: 'HTTP/1.1 200 OK\r\n\r\n' }, latency: 12.5 }, 'request handled')
  req.warn({ latency: 2512 }, 'slow request')
  req.error({ err: caught() }, 'payment failed')
  req.info({ model: 'gpt-4o-mini', usage: { prompt_tokens: 412, completion_tokens: 88 } }, 'llm call')
  log.fatal('shutting down')
} else if (library === 'winston') {
  const winston = require('winston')
  const log = winston.createLogger({
    level: 'debug',
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json()
    ),
    defaultMeta: { service: 'checkout' },
    transports: [new winston.transports.Console()]
  })
  log.debug('config loaded', { workers: 2 })
  log.info('server started on 127.0.0.1:8080')
  const req = log.child({ requestId: 'req-1', traceId: TRACE_ID, spanId: SPAN_ID })
  req.info('request handled', { method: 'GET', url: '/cart?page=2', statusCode: 200, durationMs: 12.5 })
  req.warn('slow request', { durationMs: 2512 })
  req.error('payment failed', caught())
  req.error(caught())
  req.info('llm call', { model: 'gpt-4o-mini', usage: { input_tokens: 412, output_tokens: 88 } })
  log.log('error', 'shutting down', { fatal: true })
} else {
  throw new Error('usage: node_loggers.js bunyan|winston')
}
