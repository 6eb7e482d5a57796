// A server built on the npm package better-sse, to show ssecat reads SSE
// servers it did not come with. Listens on 127.0.0.1 on a kernel-picked
// port, written to the file named by the first argument.
//
// GET /stream: a retry hint, a comment, three events (better-sse JSON-encodes
// data), then the stream ends. Last-Event-ID is echoed back in a
// "resumed" event so tests can see it arrive.
import { createServer } from "node:http";
import { writeFileSync, renameSync } from "node:fs";
import { createSession } from "better-sse";

const portFile = process.argv[2];

const server = createServer(async (req, res) => {
    if (req.url !== "/stream") {
        res.writeHead(404, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: "no such stream" }));
        return;
    }
    const session = await createSession(req, res, { retry: 250, keepAlive: null });
    const lastId = req.headers["last-event-id"];
    if (lastId) session.push({ from: lastId }, "resumed", "r");
    await session.batch((buffer) => buffer.comment("hello from better-sse"));
    session.push("first", "message", "1");
    session.push({ n: 2, text: "second" }, "update", "2");
    session.push("multi\nline", "message", "3");
    setTimeout(() => res.end(), 50);
});

server.listen(0, "127.0.0.1", () => {
    writeFileSync(portFile + ".tmp", String(server.address().port));
    renameSync(portFile + ".tmp", portFile);
});
process.on("SIGTERM", () => process.exit(0));
