// A browser-grade subscriber: the npm eventsource package (a WHATWG
// EventSource implementation). Prints one JSON line per event received, for
// the message type and any named types given, and exits after COUNT events.
// Usage: node es_client.mjs URL COUNT [TYPE...]; ES_CLIENT_TIMEOUT_MS (15000)
// bounds the wait; ES_CLIENT_BEARER, when set, is sent as Authorization:
// Bearer (the package's documented fetch hook); ES_CLIENT_TIMES=1 adds "ms",
// the milliseconds from the client's start to the event.
import { EventSource } from "eventsource";

const [url, count, ...types] = process.argv.slice(2);
const started = Date.now();
const withTimes = process.env.ES_CLIENT_TIMES === "1";
const want = Number(count);
let seen = 0;
const bearer = process.env.ES_CLIENT_BEARER;
const es = bearer
  ? new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${bearer}` } }),
    })
  : new EventSource(url);
const timer = setTimeout(() => {
  console.error(`es_client: timed out after ${seen} of ${want} events`);
  process.exit(1);
}, Number(process.env.ES_CLIENT_TIMEOUT_MS || 15000));

function show(ev) {
  const line = { type: ev.type, data: ev.data, lastEventId: ev.lastEventId };
  if (withTimes) line.ms = Date.now() - started;
  console.log(JSON.stringify(line));
  if (++seen >= want) {
    clearTimeout(timer);
    es.close();
    process.exit(0);
  }
}
es.onmessage = show;
for (const t of types) es.addEventListener(t, show);
es.onerror = () => console.error("es_client: connection error; the client will retry");
