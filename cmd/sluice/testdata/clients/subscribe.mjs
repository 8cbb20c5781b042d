// Enhanced fan-out (SubscribeToShard) driven through @aws-sdk/client-kinesis
// with its DEFAULT request handler (NodeHttp2Handler: h2c with prior
// knowledge on http://, SigV4 over :authority), against a server started
// with a short --subscribe-heartbeat and --subscribe-lifetime (the
// HEARTBEAT_MS and LIFETIME_MS environment variables tell the script which).
//
// Usage: node subscribe.mjs ENDPOINT STREAM
//
// Prints one line per step: "PASS <step>", "FAIL <step>: <why>" or
// "SKIP <step>: <why>" (a step whose prerequisite failed). Exits 1 when a
// step failed. TestCmdSubscribeNode reads the lines; its subscribeSteps
// list the steps in order.
import { Kinesis } from "@aws-sdk/client-kinesis";

const [endpoint, name] = process.argv.slice(2);
if (!endpoint || !name) {
  console.error("usage: node subscribe.mjs ENDPOINT STREAM");
  process.exit(2);
}
const heartbeatMs = Number(process.env.HEARTBEAT_MS || 5000);
const lifetimeMs = Number(process.env.LIFETIME_MS || 300000);
const account = process.env.SLUICE_ACCOUNT || "000000000000";
const region = "us-east-1";
const streamARN = `arn:aws:kinesis:${region}:${account}:stream/${name}`;
const c = new Kinesis({
  endpoint,
  region,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || "AKIDSLUICETEST",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "sluice-test-secret",
  },
  maxAttempts: 1,
});
const S0 = "shardId-000000000000";
const EVENT_TIMEOUT = Math.max(10000, 3 * heartbeatMs);
const TAKEOVER_MS = 5000; // AWS's: a second subscription within 5 s is refused, after it takes over

// ---- step runner ---------------------------------------------------------
const failed = new Set();
async function step(name, deps, fn) {
  const bad = deps.filter((d) => failed.has(d));
  if (bad.length) {
    failed.add(name);
    console.log(`SKIP ${name}: needs ${bad.join(", ")}`);
    return;
  }
  try {
    await fn();
    console.log(`PASS ${name}`);
  } catch (e) {
    failed.add(name);
    console.log(`FAIL ${name}: ${describeError(e).replace(/\n/g, " | ")}`);
  }
}
function describeError(e) {
  if (!e) return String(e);
  const parts = [e.name || "Error"];
  if (e.code) parts.push(`code=${e.code}`);
  if (e.$metadata && e.$metadata.httpStatusCode) parts.push(`http=${e.$metadata.httpStatusCode}`);
  return `${parts.join(" ")}: ${e.message}`;
}
function check(cond, what, got) {
  if (!cond) throw new Error(`${what}${got === undefined ? "" : ": got " + JSON.stringify(got)}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- subscriptions -------------------------------------------------------
// Sub wraps one SubscribeToShard event stream: next() returns the next
// SubscribeToShardEvent as {records, cont, behind, children}, or
// {end: true} at the end of the stream; an exception event rejects with
// the SDK's modelled error.
class Sub {
  constructor(out, abort) {
    this.it = out.EventStream[Symbol.asyncIterator]();
    this.abort = abort;
  }
  async next(timeout = EVENT_TIMEOUT) {
    let timer;
    const t = new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`no event within ${timeout} ms`)), timeout);
    });
    try {
      const r = await Promise.race([this.it.next(), t]);
      if (r.done) return { end: true };
      const ev = r.value.SubscribeToShardEvent;
      check(ev, "an event that is not a SubscribeToShardEvent", Object.keys(r.value));
      return {
        records: ev.Records.map((x) => ({
          seq: x.SequenceNumber,
          key: x.PartitionKey,
          data: Buffer.from(x.Data).toString(),
          arrival: x.ApproximateArrivalTimestamp,
        })),
        cont: ev.ContinuationSequenceNumber,
        behind: ev.MillisBehindLatest,
        children: ev.ChildShards,
      };
    } finally {
      clearTimeout(timer);
    }
  }
  close() {
    this.abort.abort();
  }
}

// subscribe opens a subscription. The server releases a closed one when it
// sees the HTTP/2 stream reset; a ResourceInUseException right after a
// close is retried for at most 2 s (well before a 5 s takeover could make
// it succeed on its own).
async function subscribe(consumerARN, shard, pos, retryInUse = true) {
  const deadline = Date.now() + 2000;
  for (;;) {
    const abort = new AbortController();
    try {
      const out = await c.subscribeToShard({ ConsumerARN: consumerARN, ShardId: shard, StartingPosition: pos },
        { abortSignal: abort.signal });
      return new Sub(out, abort);
    } catch (e) {
      if (!retryInUse || e.name !== "ResourceInUseException" || Date.now() > deadline) throw e;
      await sleep(50);
    }
  }
}

async function expectError(p, type, message, what) {
  try {
    await p;
  } catch (e) {
    check(e.name === type, `${what}: error type`, `${e.name}: ${e.message}`);
    if (message !== undefined) check(e.message === message, `${what}: error message`, e.message);
    check(e.$metadata && e.$metadata.httpStatusCode === 400, `${what}: HTTP status`, e.$metadata && e.$metadata.httpStatusCode);
    return;
  }
  throw new Error(`${what}: succeeded, want ${type}`);
}

function checkEvent(ev, what) {
  check(!ev.end, `${what}: the stream ended`);
  check(typeof ev.cont === "string" && ev.cont !== "", `${what}: ContinuationSequenceNumber`, ev.cont);
  check(typeof ev.behind === "number" && ev.behind >= 0, `${what}: MillisBehindLatest`, ev.behind);
  if (ev.records.length) check(ev.cont === ev.records[ev.records.length - 1].seq, `${what}: continuation is the last record's`, ev.cont);
  check(!ev.children || ev.children.length === 0, `${what}: ChildShards before the shard end`, ev.children);
}

// collect reads events until n records came; a shard end (no continuation,
// ChildShards) may carry the last ones.
async function collect(sub, n, what) {
  const got = [];
  let last;
  while (got.length < n) {
    last = await sub.next();
    check(!last.end, `${what}: the stream ended after ${got.length} of ${n} records`);
    got.push(...last.records);
    if (last.cont === undefined && last.children && last.children.length) break;
    checkEvent(last, what);
  }
  return { got, last };
}

function same(got, want, what) {
  const g = got.map((r) => `${r.key}/${r.seq}/${r.data}`), w = want.map((r) => `${r.key}/${r.seq}/${r.data}`);
  check(JSON.stringify(g) === JSON.stringify(w), `${what}: records ${JSON.stringify(g)}, want ${JSON.stringify(w)}`);
  for (const r of got) {
    check(r.arrival instanceof Date && Math.abs(Date.now() - r.arrival.getTime()) < 60000, `${what}: ApproximateArrivalTimestamp`, r.arrival);
  }
}

async function put(...keys) {
  const out = [];
  for (const k of keys) {
    const r = await c.putRecord({ StreamName: name, PartitionKey: k, Data: Buffer.from(`${k}-data`) });
    out.push({ key: k, seq: r.SequenceNumber, data: `${k}-data` });
  }
  return out;
}

// ---- the steps -----------------------------------------------------------
let consumerARN;
let b1 = [], b2 = [], all = [], mark;
let firstCont;

await step("create-stream", [], async () => {
  await c.createStream({ StreamName: name, ShardCount: 1 });
  const deadline = Date.now() + 30000;
  for (;;) {
    const s = (await c.describeStreamSummary({ StreamName: name })).StreamDescriptionSummary.StreamStatus;
    if (s === "ACTIVE") return;
    check(Date.now() < deadline, "stream not ACTIVE within 30 s", s);
    await sleep(100);
  }
});

await step("register-consumer", ["create-stream"], async () => {
  const r = await c.registerStreamConsumer({ StreamARN: streamARN, ConsumerName: "js" });
  consumerARN = r.Consumer.ConsumerARN;
  check(consumerARN.startsWith(`${streamARN}/consumer/js:`), "ConsumerARN", consumerARN);
  const deadline = Date.now() + 30000;
  for (;;) {
    const d = await c.describeStreamConsumer({ ConsumerARN: consumerARN });
    if (d.ConsumerDescription.ConsumerStatus === "ACTIVE") return;
    check(Date.now() < deadline, "consumer not ACTIVE within 30 s", d.ConsumerDescription.ConsumerStatus);
    await sleep(100);
  }
});

await step("error-unknown-shard", ["register-consumer"], async () => {
  await expectError(subscribe(consumerARN, "shardId-000000000009", { Type: "TRIM_HORIZON" }, false), "ResourceNotFoundException",
    `Shard shardId-000000000009 in stream ${name} under account ${account} does not exist`, "unknown shard");
});

await step("latest", ["register-consumer"], async () => {
  const s = await subscribe(consumerARN, S0, { Type: "LATEST" });
  try {
    const first = await s.next();
    checkEvent(first, "LATEST first event");
    check(first.records.length === 0 && first.behind === 0, "LATEST: the first event is empty", first);
    firstCont = first.cont;
    b1 = await put("k1", "k2", "k3");
    const { got } = await collect(s, 3, "LATEST");
    same(got, b1, "LATEST");
  } finally {
    s.close();
  }
});

await step("after-empty-continuation", ["latest"], async () => {
  const s = await subscribe(consumerARN, S0, { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: firstCont });
  try {
    const { got } = await collect(s, 3, "AFTER the empty event's continuation");
    same(got, b1, "AFTER the empty event's continuation");
  } finally {
    s.close();
  }
  await sleep(20);
  mark = new Date();
  await sleep(20);
  b2 = await put("k4", "k5", "k6");
  all = [...b1, ...b2];
});

await step("trim-horizon-heartbeats", ["after-empty-continuation"], async () => {
  const s = await subscribe(consumerARN, S0, { Type: "TRIM_HORIZON" });
  try {
    const { got } = await collect(s, 6, "TRIM_HORIZON");
    same(got, all, "TRIM_HORIZON");
    const start = Date.now();
    for (let i = 0; i < 3; i++) {
      const ev = await s.next();
      checkEvent(ev, `heartbeat ${i}`);
      check(ev.records.length === 0 && ev.cont === all[5].seq && ev.behind === 0, `heartbeat ${i}`, ev);
    }
    const took = Date.now() - start;
    check(took >= 2 * heartbeatMs && took < 20 * heartbeatMs, `3 heartbeats took ${took} ms with a ${heartbeatMs} ms heartbeat`);
  } finally {
    s.close();
  }
});

for (const [stepName, pos, want] of [
  ["at-sequence-number", () => ({ Type: "AT_SEQUENCE_NUMBER", SequenceNumber: all[1].seq }), () => all.slice(1)],
  ["after-sequence-number", () => ({ Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: all[1].seq }), () => all.slice(2)],
  ["at-timestamp", () => ({ Type: "AT_TIMESTAMP", Timestamp: mark }), () => b2],
]) {
  await step(stepName, ["after-empty-continuation"], async () => {
    const s = await subscribe(consumerARN, S0, pos());
    try {
      const { got } = await collect(s, want().length, stepName);
      same(got, want(), stepName);
    } finally {
      s.close();
    }
  });
}

await step("continuation-chain", ["after-empty-continuation"], async () => {
  // Re-subscribing AFTER the last event's ContinuationSequenceNumber
  // continues exactly where the previous subscription stopped.
  let s = await subscribe(consumerARN, S0, { Type: "TRIM_HORIZON" });
  let last;
  try {
    ({ last } = await collect(s, 6, "chain 1"));
  } finally {
    s.close();
  }
  const extra = await put("k8", "k9");
  s = await subscribe(consumerARN, S0, { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: last.cont });
  try {
    let got;
    ({ got, last } = await collect(s, 2, "chain 2"));
    same(got, extra, "chain 2 (no gap, no duplicate)");
  } finally {
    s.close();
  }
  s = await subscribe(consumerARN, S0, { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: last.cont });
  try {
    const ev = await s.next();
    checkEvent(ev, "chain 3");
    check(ev.records.length === 0 && ev.cont === extra[1].seq, "chain 3: nothing new, the same continuation", ev);
  } finally {
    s.close();
  }
});

let taker;
await step("resource-in-use-takeover", ["register-consumer"], async () => {
  const a = await subscribe(consumerARN, S0, { Type: "LATEST" });
  try {
    checkEvent(await a.next(), "first subscription");
    await expectError(subscribe(consumerARN, S0, { Type: "LATEST" }, false), "ResourceInUseException",
      `Another active subscription exists for this consumer: ${consumerARN}`, "a second subscription at once");
    await sleep(TAKEOVER_MS + 200);
    taker = await subscribe(consumerARN, S0, { Type: "LATEST" }, false);
    for (let i = 0; ; i++) {
      let ev;
      try {
        ev = await a.next();
      } catch (e) {
        check(e.name === "ResourceInUseException", "the taken-over stream's end", `${e.name}: ${e.message}`);
        break;
      }
      check(!ev.end && i < 50, "the taken-over stream did not end with a ResourceInUseException event", ev);
    }
  } finally {
    a.close();
  }
});

await step("split-child-shards", ["resource-in-use-takeover"], async () => {
  const s = taker;
  try {
    const tail = await put("k7");
    const { got } = await collect(s, 1, "before the split");
    same(got, tail, "before the split");
    await c.splitShard({ StreamName: name, ShardToSplit: S0, NewStartingHashKey: (2n ** 127n).toString() });
    let end;
    for (let i = 0; !end; i++) {
      const ev = await s.next();
      check(!ev.end, "the stream ended without a shard-end event");
      check(ev.records.length === 0, "records after the split", ev.records);
      if (ev.cont === undefined) end = ev;
      else check(i < 50, "no shard end after 50 events");
    }
    const kids = end.children.map((k) => `${k.ShardId}<${k.ParentShards.join(",")}>${k.HashKeyRange.StartingHashKey}-${k.HashKeyRange.EndingHashKey}`);
    check(JSON.stringify(kids) === JSON.stringify([
      `shardId-000000000001<${S0}>0-${(2n ** 127n - 1n).toString()}`,
      `shardId-000000000002<${S0}>${(2n ** 127n).toString()}-${(2n ** 128n - 1n).toString()}`,
    ]), "ChildShards", kids);
    const after = await s.next();
    check(after.end, "the stream after the shard end", after);
  } finally {
    s.close();
  }
});

await step("lifetime", ["register-consumer"], async () => {
  const start = Date.now();
  const s = await subscribe(consumerARN, "shardId-000000000001", { Type: "LATEST" });
  try {
    let events = 0;
    for (;;) {
      const ev = await s.next(lifetimeMs + EVENT_TIMEOUT);
      if (ev.end) break;
      checkEvent(ev, "lifetime");
      events++;
    }
    const took = Date.now() - start;
    check(took >= lifetimeMs - 50 && took < lifetimeMs + 3000, `the stream ended after ${took} ms, lifetime ${lifetimeMs} ms`);
    check(events >= Math.floor(lifetimeMs / heartbeatMs) - 1, `${events} events in ${took} ms with a ${heartbeatMs} ms heartbeat`);
  } finally {
    s.close();
  }
});

await step("delete-stream", ["create-stream"], async () => {
  await c.deleteStream({ StreamName: name, EnforceConsumerDeletion: true });
});

process.exit(failed.size ? 1 : 0);
