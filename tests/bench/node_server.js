// The Node.js contender of the server comparison: the usual Express SSE
// example (a set of open responses, each event written to every one),
// corrected for many connections: no request or header timeouts, a long
// listen queue, no limit on connections, Nagle off. Events come in as one
// POST /pub per event; subscribers GET /sub. Each event is encoded once.
// Usage: node node_server.js [PORT]  (prints "node: serving http://127.0.0.1:PORT/")
'use strict';
const express = require('express');

const app = express();
const subscribers = new Set();
let lastId = 0;

app.get('/sub', (req, res) => {
  req.socket.setNoDelay(true);
  req.socket.setTimeout(0);
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
  });
  res.write(': node stream\n\n');
  subscribers.add(res);
  req.on('close', () => subscribers.delete(res));
});

app.post('/pub', express.text({ type: '*/*', limit: '1mb' }), (req, res) => {
  const wire = `id: ${++lastId}\ndata: ${req.body}\n\n`;
  for (const s of subscribers) s.write(wire);
  res.status(204).end();
});

const server = app.listen({ port: Number(process.argv[2] || 0), host: '127.0.0.1', backlog: 4096 }, () => {
  console.error(`node: serving http://127.0.0.1:${server.address().port}/`);
});
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 60000;
server.timeout = 0;
server.maxConnections = Infinity;
process.on('SIGTERM', () => process.exit(0));
