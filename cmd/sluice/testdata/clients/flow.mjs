// The Kinesis client flow driven through @aws-sdk/client-kinesis with its
// DEFAULT request handler (NodeHttp2Handler: h2c with prior knowledge on
// http://, a new connection per call, SigV4 over :authority).
//
// Usage: node flow.mjs ENDPOINT STREAM
//
// With SLUICE_NODE_HANDLER=http1 the client uses the SDK's NodeHttpHandler
// instead (HTTP/1.1 keep-alive, SigV4 over host): the same flow over the
// other transport the SDK ships.
//
// Prints one line per step: "PASS <step>", "FAIL <step>: <why>" or
// "SKIP <step>: <why>" (a step whose prerequisite failed). Exits 1 when a
// step failed. The steps and their checks are the same as flow.py and the
// AWS CLI flow in clientflows_test.go; TestCmdClientFlows reads the lines.
import { createHash } from "node:crypto";
import { Kinesis } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const [endpoint, name] = process.argv.slice(2);
if (!endpoint || !name) {
  console.error("usage: node flow.mjs ENDPOINT STREAM");
  process.exit(2);
}
const account = process.env.SLUICE_ACCOUNT || "000000000000";
const region = "us-east-1";
const arn = `arn:aws:kinesis:${region}:${account}:stream/${name}`;
const c = new Kinesis({
  endpoint,
  region,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || "AKIDSLUICETEST",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "sluice-test-secret",
  },
  maxAttempts: 1, // a server that needs retries here has a bug: show it
  ...(process.env.SLUICE_NODE_HANDLER === "http1" ? { requestHandler: new NodeHttpHandler() } : {}),
});

const TOP = 2n ** 128n - 1n;
const HALF = 2n ** 127n;
const ids = (...n) => n.map((i) => "shardId-" + String(i).padStart(12, "0"));
const [S0, S1, S2, S3, S4] = ids(0, 1, 2, 3, 4);

// ---- step runner ---------------------------------------------------------
const failed = new Set();
let h2broken = "";
async function step(name, deps, fn) {
  const bad = deps.filter((d) => failed.has(d));
  if (h2broken) {
    failed.add(name);
    console.log(`SKIP ${name}: no h2c on the server (see the first failed step)`);
    return;
  }
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
    let why = describeError(e);
    if (e && (e.code === "ERR_HTTP2_ERROR" || e.code === "ERR_HTTP2_SESSION_ERROR" ||
        e.code === "ERR_HTTP2_STREAM_ERROR" || /Protocol error/.test(String(e.message)))) {
      h2broken = "the server does not speak HTTP/2 cleartext (h2c prior knowledge), which " +
        "@aws-sdk/client-kinesis's default NodeHttp2Handler uses for every call";
      why = `${h2broken}: ${why}`;
    }
    console.log(`FAIL ${name}: ${why.replace(/\n/g, " | ")}`);
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
  if (!cond) throw new Error(`${what}${got === undefined ? "" : ": got " + JSON.stringify(got, replacer)}`);
}
function replacer(_k, v) {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  return v;
}
function eq(got, want, what) {
  const g = JSON.stringify(got, replacer), w = JSON.stringify(want, replacer);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}
async function expectError(p, type, message, what) {
  try {
    await p;
  } catch (e) {
    check(e.name === type, `${what}: error type`, `${e.name}: ${e.message}`);
    if (message !== undefined) eq(e.message, message, `${what}: error message`);
    check(e.$metadata.httpStatusCode === 400, `${what}: HTTP status`, e.$metadata.httpStatusCode);
    return;
  }
  throw new Error(`${what}: succeeded, want ${type}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hashOf = (pk) => BigInt("0x" + createHash("md5").update(pk, "utf8").digest("hex"));

// ---- stream helpers ------------------------------------------------------
async function waitActive(what) {
  const deadline = Date.now() + 30000;
  let status;
  while (Date.now() < deadline) {
    status = (await c.describeStreamSummary({ StreamName: name })).StreamDescriptionSummary.StreamStatus;
    if (status === "ACTIVE") return;
    await sleep(100);
  }
  throw new Error(`${what}: stream not ACTIVE within 30 s (last status ${status})`);
}
async function allShards() {
  const shards = [];
  let token;
  for (let i = 0; i < 50; i++) {
    const r = await c.listShards(token ? { NextToken: token } : { StreamName: name });
    shards.push(...r.Shards);
    token = r.NextToken;
    if (!token) return shards;
  }
  throw new Error("ListShards: more than 50 pages");
}
const isOpen = (s) => !s.SequenceNumberRange.EndingSequenceNumber;
const range = (s) => [BigInt(s.HashKeyRange.StartingHashKey), BigInt(s.HashKeyRange.EndingHashKey)];
// readAll follows an iterator until it is caught up (MillisBehindLatest 0)
// or, with untilEnd, until the end of a closed shard (no next iterator).
async function readAll(it, untilEnd = false) {
  const recs = [];
  let last;
  for (let i = 0; i < 50; i++) {
    last = await c.getRecords({ ShardIterator: it, Limit: 10000 });
    recs.push(...last.Records);
    if (!last.NextShardIterator) return { recs, last };
    if (!untilEnd && last.MillisBehindLatest === 0) return { recs, last };
    it = last.NextShardIterator;
  }
  throw new Error(`GetRecords: ${untilEnd ? "no shard end" : "not caught up"} after 50 calls`);
}
async function iterator(shard, type, extra = {}) {
  const r = await c.getShardIterator({ StreamName: name, ShardId: shard, ShardIteratorType: type, ...extra });
  check(typeof r.ShardIterator === "string" && r.ShardIterator.length > 0 && r.ShardIterator.length <= 512,
    `GetShardIterator ${type}: ShardIterator`, r.ShardIterator);
  return r.ShardIterator;
}
// sameRecords compares GetRecords output with the records the flow put.
function sameRecords(got, want, what) {
  eq(got.map((r) => [r.SequenceNumber, r.PartitionKey, Buffer.from(r.Data).toString("hex")]),
    want.map((r) => [r.seq, r.pk, r.data.toString("hex")]), what);
  for (const r of got) {
    check(r.ApproximateArrivalTimestamp instanceof Date && !isNaN(r.ApproximateArrivalTimestamp),
      `${what}: ApproximateArrivalTimestamp`, r.ApproximateArrivalTimestamp);
  }
}

// ---- the flow --------------------------------------------------------------
const put = { [S0]: [], [S1]: [] }; // records put, per shard, in order
const t0 = new Date(Date.now() - 2000);
let tMid, summary0;

await step("create-stream", [], async () => {
  await c.createStream({ StreamName: name, ShardCount: 2 });
});
await step("wait-active", ["create-stream"], () => waitActive("CreateStream"));
await step("describe-stream", ["wait-active"], async () => {
  const d = (await c.describeStream({ StreamName: name })).StreamDescription;
  eq([d.StreamName, d.StreamARN, d.StreamStatus, d.HasMoreShards, d.RetentionPeriodHours, d.EncryptionType ?? "NONE"],
    [name, arn, "ACTIVE", false, 24, "NONE"], "DescribeStream name/arn/status/more/retention/encryption");
  check(d.StreamCreationTimestamp instanceof Date && d.StreamCreationTimestamp >= t0, "StreamCreationTimestamp", d.StreamCreationTimestamp);
  eq(d.Shards.map((s) => [s.ShardId, ...range(s), isOpen(s), s.ParentShardId ?? null]),
    [[S0, 0n, HALF - 1n, true, null], [S1, HALF, TOP, true, null]], "DescribeStream shards");
  for (const s of d.Shards) check(/^\d+$/.test(s.SequenceNumberRange.StartingSequenceNumber), "StartingSequenceNumber", s);
});
await step("describe-stream-summary", ["wait-active"], async () => {
  const s = (await c.describeStreamSummary({ StreamName: name })).StreamDescriptionSummary;
  summary0 = s;
  eq([s.StreamName, s.StreamARN, s.StreamStatus, s.OpenShardCount, s.RetentionPeriodHours, s.EncryptionType ?? "NONE", s.ConsumerCount ?? 0],
    [name, arn, "ACTIVE", 2, 24, "NONE", 0], "DescribeStreamSummary name/arn/status/open/retention/encryption/consumers");
  eq(s.StreamModeDetails?.StreamMode ?? "PROVISIONED", "PROVISIONED", "StreamMode");
});
await step("list-streams", ["wait-active"], async () => {
  const r = await c.listStreams({});
  check(r.StreamNames.includes(name), "ListStreams StreamNames", r.StreamNames);
  eq([...r.StreamNames].sort(), r.StreamNames, "ListStreams StreamNames sorted");
  const sum = (r.StreamSummaries || []).find((x) => x.StreamName === name);
  check(sum, "ListStreams StreamSummaries has the stream", r.StreamSummaries);
  eq([sum.StreamARN, sum.StreamStatus], [arn, "ACTIVE"], "ListStreams summary arn/status");
  eq(r.HasMoreStreams, false, "HasMoreStreams");
});
await step("list-shards", ["wait-active"], async () => {
  const shards = await allShards();
  eq(shards.map((s) => [s.ShardId, ...range(s), isOpen(s)]),
    [[S0, 0n, HALF - 1n, true], [S1, HALF, TOP, true]], "ListShards");
  const one = await c.listShards({ StreamName: name, MaxResults: 1 });
  eq(one.Shards.map((s) => s.ShardId), [S0], "ListShards MaxResults 1");
  check(one.NextToken, "ListShards MaxResults 1: NextToken", one);
  const rest = await c.listShards({ NextToken: one.NextToken });
  eq(rest.Shards.map((s) => s.ShardId), [S1], "ListShards page 2");
});
await step("put-record", ["wait-active"], async () => {
  const data = Buffer.from([0x00, 0xff, 0x10, ...Buffer.from(" first record")]);
  const r = await c.putRecord({ StreamName: name, PartitionKey: "a", Data: data });
  check(hashOf("a") < HALF, "md5(a) is in shard 0");
  eq(r.ShardId, S0, "PutRecord ShardId");
  check(/^\d{20,}$/.test(r.SequenceNumber), "PutRecord SequenceNumber", r.SequenceNumber);
  eq(r.EncryptionType ?? "NONE", "NONE", "PutRecord EncryptionType");
  put[S0].push({ pk: "a", data, seq: r.SequenceNumber });
});
await step("put-records", ["wait-active"], async () => {
  const ehk = HALF + 12345n; // routes "a" to shard 1 despite its MD5
  const entries = [
    { pk: "a", data: Buffer.from("batch 0 a") },
    { pk: "b", data: Buffer.from("batch 1 b") },
    { pk: "c", data: Buffer.from("batch 2 c") },
    { pk: "a", data: Buffer.from("batch 3 explicit hash key"), ehk },
    { pk: "d", data: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
  ];
  const r = await c.putRecords({
    StreamName: name,
    Records: entries.map((e) => ({ PartitionKey: e.pk, Data: e.data, ...(e.ehk ? { ExplicitHashKey: e.ehk.toString() } : {}) })),
  });
  eq(r.FailedRecordCount ?? 0, 0, "FailedRecordCount");
  eq(r.Records.length, entries.length, "PutRecords Records length");
  entries.forEach((e, i) => {
    const want = (e.ehk ?? hashOf(e.pk)) < HALF ? S0 : S1;
    const got = r.Records[i];
    eq([got.ShardId, got.ErrorCode ?? null], [want, null], `PutRecords entry ${i} shard`);
    check(/^\d{20,}$/.test(got.SequenceNumber), `PutRecords entry ${i} SequenceNumber`, got.SequenceNumber);
    put[want].push({ pk: e.pk, data: e.data, seq: got.SequenceNumber });
  });
  for (const s of [S0, S1]) {
    const seqs = put[s].map((x) => BigInt(x.seq));
    check(seqs.every((v, i) => i === 0 || v > seqs[i - 1]), `sequence numbers increase in ${s}`, put[s].map((x) => x.seq));
  }
  eq(put[S1].some((x) => x.pk === "a"), true, "the explicit-hash-key record is in shard 1");
  await sleep(300);
  tMid = new Date();
  await sleep(300);
});
await step("iterator-trim-horizon", ["put-record", "put-records"], async () => {
  for (const s of [S0, S1]) {
    const { recs, last } = await readAll(await iterator(s, "TRIM_HORIZON"));
    sameRecords(recs, put[s], `TRIM_HORIZON ${s}`);
    check(typeof last.NextShardIterator === "string", "open shard: NextShardIterator", last);
    eq(last.MillisBehindLatest, 0, "MillisBehindLatest when caught up");
  }
  const one = await c.getRecords({ ShardIterator: await iterator(S0, "TRIM_HORIZON"), Limit: 1 });
  sameRecords(one.Records, put[S0].slice(0, 1), "GetRecords Limit 1");
});
await step("iterator-latest", ["put-record", "put-records"], async () => {
  const it = await iterator(S0, "LATEST");
  const empty = await c.getRecords({ ShardIterator: it });
  eq(empty.Records.length, 0, "LATEST before a put: records");
  const data = Buffer.from("after LATEST");
  const r = await c.putRecord({ StreamName: name, PartitionKey: "a", Data: data });
  eq(r.ShardId, S0, "PutRecord ShardId");
  put[S0].push({ pk: "a", data, seq: r.SequenceNumber });
  const { recs } = await readAll(empty.NextShardIterator);
  sameRecords(recs, put[S0].slice(-1), "LATEST after a put");
});
await step("iterator-at-sequence-number", ["iterator-trim-horizon"], async () => {
  const { recs } = await readAll(await iterator(S0, "AT_SEQUENCE_NUMBER", { StartingSequenceNumber: put[S0][1].seq }));
  sameRecords(recs, put[S0].slice(1), "AT_SEQUENCE_NUMBER second record");
});
await step("iterator-after-sequence-number", ["iterator-trim-horizon"], async () => {
  const { recs } = await readAll(await iterator(S0, "AFTER_SEQUENCE_NUMBER", { StartingSequenceNumber: put[S0][1].seq }));
  sameRecords(recs, put[S0].slice(2), "AFTER_SEQUENCE_NUMBER second record");
  const s1 = await readAll(await iterator(S1, "AFTER_SEQUENCE_NUMBER", { StartingSequenceNumber: put[S1].at(-1).seq }));
  sameRecords(s1.recs, [], "AFTER_SEQUENCE_NUMBER last record");
});
await step("iterator-at-timestamp", ["iterator-latest"], async () => {
  const late = (await readAll(await iterator(S0, "AT_TIMESTAMP", { Timestamp: tMid }))).recs;
  sameRecords(late, put[S0].filter((x) => x.data.toString() === "after LATEST"), "AT_TIMESTAMP between the puts, shard 0");
  const none = (await readAll(await iterator(S1, "AT_TIMESTAMP", { Timestamp: tMid }))).recs;
  sameRecords(none, [], "AT_TIMESTAMP between the puts, shard 1");
  const all = (await readAll(await iterator(S0, "AT_TIMESTAMP", { Timestamp: t0 }))).recs;
  sameRecords(all, put[S0], "AT_TIMESTAMP before the stream");
});
await step("error-missing-stream", [], async () => {
  await expectError(c.describeStream({ StreamName: name + "-missing" }), "ResourceNotFoundException",
    `Stream ${name}-missing under account ${account} not found.`, "DescribeStream of a missing stream");
});
await step("split-shard", ["iterator-at-timestamp"], async () => {
  await c.splitShard({ StreamName: name, ShardToSplit: S0, NewStartingHashKey: (2n ** 126n).toString() });
  await waitActive("SplitShard");
  const shards = await allShards();
  eq(shards.map((s) => [s.ShardId, ...range(s), isOpen(s), s.ParentShardId ?? null]),
    [[S0, 0n, HALF - 1n, false, null], [S1, HALF, TOP, true, null],
      [S2, 0n, 2n ** 126n - 1n, true, S0], [S3, 2n ** 126n, HALF - 1n, true, S0]], "ListShards after SplitShard");
  // The closed parent still serves its records, then reports its children.
  const { recs, last } = await readAll(await iterator(S0, "TRIM_HORIZON"), true);
  sameRecords(recs, put[S0], "closed parent TRIM_HORIZON");
  eq(last.NextShardIterator ?? null, null, "closed parent: no NextShardIterator at its end");
  eq((last.ChildShards || []).map((x) => [x.ShardId, x.ParentShards]), [[S2, [S0]], [S3, [S0]]], "closed parent ChildShards");
});
await step("merge-shards", ["split-shard"], async () => {
  await c.mergeShards({ StreamName: name, ShardToMerge: S2, AdjacentShardToMerge: S3 });
  await waitActive("MergeShards");
  const shards = await allShards();
  eq(shards.map((s) => [s.ShardId, ...range(s), isOpen(s), s.ParentShardId ?? null, s.AdjacentParentShardId ?? null]),
    [[S0, 0n, HALF - 1n, false, null, null], [S1, HALF, TOP, true, null, null],
      [S2, 0n, 2n ** 126n - 1n, false, S0, null], [S3, 2n ** 126n, HALF - 1n, false, S0, null],
      [S4, 0n, HALF - 1n, true, S2, S3]], "ListShards after MergeShards");
  const d = (await c.describeStream({ StreamName: name })).StreamDescription;
  eq(d.Shards.map((s) => s.ShardId), [S0, S1, S2, S3, S4], "DescribeStream lists the closed parents");
});
await step("update-shard-count", ["wait-active"], async () => {
  // Independent of split/merge: from whatever open set the stream has
  // (2 or 3 shards), uniform scaling to 4.
  const before = (await allShards()).filter(isOpen).map((s) => s.ShardId);
  const r = await c.updateShardCount({ StreamName: name, TargetShardCount: 4, ScalingType: "UNIFORM_SCALING" });
  eq([r.StreamName, r.CurrentShardCount, r.TargetShardCount], [name, before.length, 4], "UpdateShardCount response");
  await waitActive("UpdateShardCount");
  const s = (await c.describeStreamSummary({ StreamName: name })).StreamDescriptionSummary;
  eq(s.OpenShardCount, 4, "OpenShardCount after UpdateShardCount");
  const shards = await allShards();
  const open = shards.filter(isOpen).sort((a, b) => (range(a)[0] < range(b)[0] ? -1 : 1));
  const q = 2n ** 126n;
  eq(open.map(range), [[0n, q - 1n], [q, 2n * q - 1n], [2n * q, 3n * q - 1n], [3n * q, TOP]], "open shards tile the key space evenly");
  const known = new Set(shards.map((x) => x.ShardId));
  for (const o of open) check(o.ParentShardId && known.has(o.ParentShardId), `new shard ${o.ShardId} has a listed parent`, o);
  // A shard whose range already is one of the targets may stay open (a split
  // or merge of it would only re-create the same range); every other one was
  // split or merged, so it is closed.
  const targets = [[0n, q - 1n], [q, 2n * q - 1n], [2n * q, 3n * q - 1n], [3n * q, TOP]];
  for (const old of before) {
    const s = shards.find((x) => x.ShardId === old);
    const [lo, hi] = range(s);
    check(!isOpen(s) || targets.some(([a, b]) => a === lo && b === hi), `${old} closed after UpdateShardCount (or open with a target range)`, shards);
  }
});
await step("put-after-reshard", ["update-shard-count"], async () => {
  const data = Buffer.from("after resharding");
  const r = await c.putRecord({ StreamName: name, PartitionKey: "a", Data: data });
  const open = (await allShards()).filter(isOpen);
  const home = open.find((s) => range(s)[0] <= hashOf("a") && hashOf("a") <= range(s)[1]);
  eq(r.ShardId, home.ShardId, "PutRecord lands in the open shard that owns md5(a)");
  const { recs } = await readAll(await iterator(r.ShardId, "TRIM_HORIZON"));
  sameRecords(recs, [{ pk: "a", data, seq: r.SequenceNumber }], "new shard TRIM_HORIZON");
});
const tags = async () => (await c.listTagsForStream({ StreamName: name })).Tags.map((t) => [t.Key, t.Value]).sort();
await step("tags-stream", ["wait-active"], async () => {
  await c.addTagsToStream({ StreamName: name, Tags: { env: "test", team: "sluice" } });
  eq(await tags(), [["env", "test"], ["team", "sluice"]], "ListTagsForStream after AddTagsToStream");
  const r = await c.listTagsForStream({ StreamName: name });
  eq(r.HasMoreTags, false, "HasMoreTags");
  await c.removeTagsFromStream({ StreamName: name, TagKeys: ["team", "absent"] });
  eq(await tags(), [["env", "test"]], "ListTagsForStream after RemoveTagsFromStream");
});
await step("tags-resource", ["tags-stream"], async () => {
  await c.tagResource({ ResourceARN: arn, Tags: { owner: "h5" } });
  const r = await c.listTagsForResource({ ResourceARN: arn });
  eq(r.Tags.map((t) => [t.Key, t.Value]).sort(), [["env", "test"], ["owner", "h5"]], "ListTagsForResource");
  await c.untagResource({ ResourceARN: arn, TagKeys: ["env"] });
  eq(await tags(), [["owner", "h5"]], "ListTagsForStream after UntagResource");
});
await step("retention", ["wait-active"], async () => {
  const hours = async () => (await c.describeStreamSummary({ StreamName: name })).StreamDescriptionSummary.RetentionPeriodHours;
  await c.increaseStreamRetentionPeriod({ StreamName: name, RetentionPeriodHours: 48 });
  await waitActive("IncreaseStreamRetentionPeriod");
  eq(await hours(), 48, "RetentionPeriodHours after Increase");
  await c.decreaseStreamRetentionPeriod({ StreamName: name, RetentionPeriodHours: 24 });
  await waitActive("DecreaseStreamRetentionPeriod");
  eq(await hours(), 24, "RetentionPeriodHours after Decrease");
  await expectError(c.decreaseStreamRetentionPeriod({ StreamName: name, RetentionPeriodHours: 12 }),
    "InvalidArgumentException", undefined, "DecreaseStreamRetentionPeriod below 24 h");
});
await step("delete-stream", ["wait-active"], async () => {
  await c.deleteStream({ StreamName: name });
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      await c.describeStreamSummary({ StreamName: name });
    } catch (e) {
      eq([e.name, e.message], ["ResourceNotFoundException", `Stream ${name} under account ${account} not found.`],
        "DescribeStreamSummary after DeleteStream");
      break;
    }
    check(Date.now() < deadline, "stream still there 30 s after DeleteStream");
    await sleep(100);
  }
  const r = await c.listStreams({});
  check(!r.StreamNames.includes(name), "ListStreams after DeleteStream", r.StreamNames);
  await expectError(c.putRecord({ StreamName: name, PartitionKey: "a", Data: Buffer.from("x") }),
    "ResourceNotFoundException", undefined, "PutRecord after DeleteStream");
});

process.exit(failed.size ? 1 : 0);
