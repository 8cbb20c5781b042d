"""The Kinesis client flow driven through boto3 (botocore, HTTP/1.1).

Usage: python3 flow.py ENDPOINT STREAM

Prints one line per step: "PASS <step>", "FAIL <step>: <why>" or
"SKIP <step>: <why>" (a step whose prerequisite failed). Exits 1 when a step
failed. The steps and their checks are the same as flow.mjs and the AWS CLI
flow in clientflows_test.go; TestCmdClientFlows reads the lines.
"""

import datetime
import hashlib
import os
import re
import sys
import time
import traceback

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if len(sys.argv) != 3:
    sys.exit("usage: python3 flow.py ENDPOINT STREAM")
endpoint, name = sys.argv[1], sys.argv[2]
account = os.environ.get("SLUICE_ACCOUNT", "000000000000")
region = "us-east-1"
arn = "arn:aws:kinesis:%s:%s:stream/%s" % (region, account, name)
c = boto3.client(
    "kinesis",
    endpoint_url=endpoint,
    region_name=region,
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "AKIDSLUICETEST"),
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "sluice-test-secret"),
    # A server that needs retries here has a bug: show it.
    config=Config(retries={"max_attempts": 1, "mode": "standard"}),
)

TOP = 2**128 - 1
HALF = 2**127
Q = 2**126
S0, S1, S2, S3, S4 = ("shardId-%012d" % i for i in range(5))

# ---- step runner ------------------------------------------------------------
failed = set()


def step(name, deps):
    def run(fn):
        bad = [d for d in deps if d in failed]
        if bad:
            failed.add(name)
            print("SKIP %s: needs %s" % (name, ", ".join(bad)), flush=True)
            return fn
        try:
            fn()
            print("PASS %s" % name, flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed.add(name)
            why = describe(e)
            if not isinstance(e, (Check, ClientError)):
                why += " | " + " | ".join(traceback.format_exc().strip().splitlines()[-4:])
            print("FAIL %s: %s" % (name, why.replace("\n", " | ")), flush=True)
        return fn

    return run


class Check(Exception):
    pass


def describe(e):
    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        return "%s http=%s: %s" % (err.get("Code"), e.response["ResponseMetadata"].get("HTTPStatusCode"), err.get("Message"))
    return "%s: %s" % (type(e).__name__, e)


def check(cond, what, got=None):
    if not cond:
        raise Check(what if got is None else "%s: got %r" % (what, got))


def eq(got, want, what):
    if got != want:
        raise Check("%s: got %r, want %r" % (what, got, want))


def expect_error(fn, code, message, what):
    try:
        fn()
    except ClientError as e:
        err = e.response["Error"]
        eq(err["Code"], code, what + ": error code")
        if message is not None:
            eq(err["Message"], message, what + ": error message")
        eq(e.response["ResponseMetadata"]["HTTPStatusCode"], 400, what + ": HTTP status")
        return
    raise Check("%s: succeeded, want %s" % (what, code))


def hash_of(pk):
    return int(hashlib.md5(pk.encode()).hexdigest(), 16)


# ---- stream helpers -----------------------------------------------------------
def wait_active(what):
    deadline = time.time() + 30
    status = None
    while time.time() < deadline:
        status = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]
        if status == "ACTIVE":
            return
        time.sleep(0.1)
    raise Check("%s: stream not ACTIVE within 30 s (last status %s)" % (what, status))


def all_shards():
    shards, token = [], None
    for _ in range(50):
        r = c.list_shards(NextToken=token) if token else c.list_shards(StreamName=name)
        shards += r["Shards"]
        token = r.get("NextToken")
        if not token:
            return shards
    raise Check("ListShards: more than 50 pages")


def is_open(s):
    return "EndingSequenceNumber" not in s["SequenceNumberRange"]


def rng(s):
    return (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))


def read_all(it, until_end=False):
    """Follows an iterator until it is caught up (MillisBehindLatest 0) or,
    with until_end, until the end of a closed shard (no next iterator)."""
    recs = []
    for _ in range(50):
        last = c.get_records(ShardIterator=it, Limit=10000)
        recs += last["Records"]
        if not last.get("NextShardIterator"):
            return recs, last
        if not until_end and last.get("MillisBehindLatest") == 0:
            return recs, last
        it = last["NextShardIterator"]
    raise Check("GetRecords: %s after 50 calls" % ("no shard end" if until_end else "not caught up"))


def iterator(shard, typ, **extra):
    r = c.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=typ, **extra)
    it = r.get("ShardIterator")
    check(isinstance(it, str) and 0 < len(it) <= 512, "GetShardIterator %s: ShardIterator" % typ, it)
    return it


def same_records(got, want, what):
    eq([(r["SequenceNumber"], r["PartitionKey"], r["Data"]) for r in got],
       [(r["seq"], r["pk"], r["data"]) for r in want], what)
    for r in got:
        check(isinstance(r.get("ApproximateArrivalTimestamp"), datetime.datetime),
              what + ": ApproximateArrivalTimestamp", r.get("ApproximateArrivalTimestamp"))


# ---- the flow -----------------------------------------------------------------
put = {S0: [], S1: []}  # records put, per shard, in order
t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)
state = {}


@step("create-stream", [])
def _():
    c.create_stream(StreamName=name, ShardCount=2)


@step("wait-active", ["create-stream"])
def _():
    wait_active("CreateStream")


@step("describe-stream", ["wait-active"])
def _():
    d = c.describe_stream(StreamName=name)["StreamDescription"]
    eq([d["StreamName"], d["StreamARN"], d["StreamStatus"], d["HasMoreShards"], d["RetentionPeriodHours"], d.get("EncryptionType", "NONE")],
       [name, arn, "ACTIVE", False, 24, "NONE"], "DescribeStream name/arn/status/more/retention/encryption")
    check(d["StreamCreationTimestamp"] >= t0, "StreamCreationTimestamp", d["StreamCreationTimestamp"])
    eq([(s["ShardId"],) + rng(s) + (is_open(s), s.get("ParentShardId")) for s in d["Shards"]],
       [(S0, 0, HALF - 1, True, None), (S1, HALF, TOP, True, None)], "DescribeStream shards")
    for s in d["Shards"]:
        check(re.fullmatch(r"\d+", s["SequenceNumberRange"]["StartingSequenceNumber"]), "StartingSequenceNumber", s)


@step("describe-stream-summary", ["wait-active"])
def _():
    s = c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    eq([s["StreamName"], s["StreamARN"], s["StreamStatus"], s["OpenShardCount"], s["RetentionPeriodHours"],
        s.get("EncryptionType", "NONE"), s.get("ConsumerCount", 0)],
       [name, arn, "ACTIVE", 2, 24, "NONE", 0], "DescribeStreamSummary name/arn/status/open/retention/encryption/consumers")
    eq(s.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED"), "PROVISIONED", "StreamMode")


@step("list-streams", ["wait-active"])
def _():
    r = c.list_streams()
    check(name in r["StreamNames"], "ListStreams StreamNames", r["StreamNames"])
    eq(sorted(r["StreamNames"]), r["StreamNames"], "ListStreams StreamNames sorted")
    sums = [x for x in r.get("StreamSummaries", []) if x["StreamName"] == name]
    check(sums, "ListStreams StreamSummaries has the stream", r.get("StreamSummaries"))
    eq([sums[0]["StreamARN"], sums[0]["StreamStatus"]], [arn, "ACTIVE"], "ListStreams summary arn/status")
    eq(r["HasMoreStreams"], False, "HasMoreStreams")


@step("list-shards", ["wait-active"])
def _():
    eq([(s["ShardId"],) + rng(s) + (is_open(s),) for s in all_shards()],
       [(S0, 0, HALF - 1, True), (S1, HALF, TOP, True)], "ListShards")
    one = c.list_shards(StreamName=name, MaxResults=1)
    eq([s["ShardId"] for s in one["Shards"]], [S0], "ListShards MaxResults 1")
    check(one.get("NextToken"), "ListShards MaxResults 1: NextToken", one)
    rest = c.list_shards(NextToken=one["NextToken"])
    eq([s["ShardId"] for s in rest["Shards"]], [S1], "ListShards page 2")


@step("put-record", ["wait-active"])
def _():
    data = b"\x00\xff\x10 first record"
    r = c.put_record(StreamName=name, PartitionKey="a", Data=data)
    check(hash_of("a") < HALF, "md5(a) is in shard 0")
    eq(r["ShardId"], S0, "PutRecord ShardId")
    check(re.fullmatch(r"\d{20,}", r["SequenceNumber"]), "PutRecord SequenceNumber", r["SequenceNumber"])
    eq(r.get("EncryptionType", "NONE"), "NONE", "PutRecord EncryptionType")
    put[S0].append({"pk": "a", "data": data, "seq": r["SequenceNumber"]})


@step("put-records", ["wait-active"])
def _():
    ehk = HALF + 12345  # routes "a" to shard 1 despite its MD5
    entries = [
        {"pk": "a", "data": b"batch 0 a"},
        {"pk": "b", "data": b"batch 1 b"},
        {"pk": "c", "data": b"batch 2 c"},
        {"pk": "a", "data": b"batch 3 explicit hash key", "ehk": ehk},
        {"pk": "d", "data": b"\xde\xad\xbe\xef"},
    ]
    reqs = []
    for e in entries:
        x = {"PartitionKey": e["pk"], "Data": e["data"]}
        if "ehk" in e:
            x["ExplicitHashKey"] = str(e["ehk"])
        reqs.append(x)
    r = c.put_records(StreamName=name, Records=reqs)
    eq(r.get("FailedRecordCount", 0), 0, "FailedRecordCount")
    eq(len(r["Records"]), len(entries), "PutRecords Records length")
    for i, e in enumerate(entries):
        want = S0 if e.get("ehk", hash_of(e["pk"])) < HALF else S1
        got = r["Records"][i]
        eq([got.get("ShardId"), got.get("ErrorCode")], [want, None], "PutRecords entry %d shard" % i)
        check(re.fullmatch(r"\d{20,}", got["SequenceNumber"]), "PutRecords entry %d SequenceNumber" % i, got["SequenceNumber"])
        put[want].append({"pk": e["pk"], "data": e["data"], "seq": got["SequenceNumber"]})
    for s in (S0, S1):
        seqs = [int(x["seq"]) for x in put[s]]
        check(all(a < b for a, b in zip(seqs, seqs[1:])), "sequence numbers increase in " + s, seqs)
    eq(any(x["pk"] == "a" for x in put[S1]), True, "the explicit-hash-key record is in shard 1")
    # botocore sends AT_TIMESTAMP's Timestamp as whole epoch seconds: the
    # mark between these puts and the next one is a whole second.
    mark = int(time.time() + 0.2) + 1
    time.sleep(mark + 0.2 - time.time())
    state["t_mid"] = datetime.datetime.fromtimestamp(mark, datetime.timezone.utc)


@step("iterator-trim-horizon", ["put-record", "put-records"])
def _():
    for s in (S0, S1):
        recs, last = read_all(iterator(s, "TRIM_HORIZON"))
        same_records(recs, put[s], "TRIM_HORIZON " + s)
        check(isinstance(last.get("NextShardIterator"), str), "open shard: NextShardIterator", last)
        eq(last.get("MillisBehindLatest"), 0, "MillisBehindLatest when caught up")
    one = c.get_records(ShardIterator=iterator(S0, "TRIM_HORIZON"), Limit=1)
    same_records(one["Records"], put[S0][:1], "GetRecords Limit 1")


@step("iterator-latest", ["put-record", "put-records"])
def _():
    it = iterator(S0, "LATEST")
    empty = c.get_records(ShardIterator=it)
    eq(len(empty["Records"]), 0, "LATEST before a put: records")
    data = b"after LATEST"
    r = c.put_record(StreamName=name, PartitionKey="a", Data=data)
    eq(r["ShardId"], S0, "PutRecord ShardId")
    put[S0].append({"pk": "a", "data": data, "seq": r["SequenceNumber"]})
    recs, _ = read_all(empty["NextShardIterator"])
    same_records(recs, put[S0][-1:], "LATEST after a put")


@step("iterator-at-sequence-number", ["iterator-trim-horizon"])
def _():
    recs, _ = read_all(iterator(S0, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=put[S0][1]["seq"]))
    same_records(recs, put[S0][1:], "AT_SEQUENCE_NUMBER second record")


@step("iterator-after-sequence-number", ["iterator-trim-horizon"])
def _():
    recs, _ = read_all(iterator(S0, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=put[S0][1]["seq"]))
    same_records(recs, put[S0][2:], "AFTER_SEQUENCE_NUMBER second record")
    recs, _ = read_all(iterator(S1, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=put[S1][-1]["seq"]))
    same_records(recs, [], "AFTER_SEQUENCE_NUMBER last record")


@step("iterator-at-timestamp", ["iterator-latest"])
def _():
    late, _ = read_all(iterator(S0, "AT_TIMESTAMP", Timestamp=state["t_mid"]))
    same_records(late, [x for x in put[S0] if x["data"] == b"after LATEST"], "AT_TIMESTAMP between the puts, shard 0")
    none, _ = read_all(iterator(S1, "AT_TIMESTAMP", Timestamp=state["t_mid"]))
    same_records(none, [], "AT_TIMESTAMP between the puts, shard 1")
    every, _ = read_all(iterator(S0, "AT_TIMESTAMP", Timestamp=t0))
    same_records(every, put[S0], "AT_TIMESTAMP before the stream")


@step("error-missing-stream", [])
def _():
    expect_error(lambda: c.describe_stream(StreamName=name + "-missing"), "ResourceNotFoundException",
                 "Stream %s-missing under account %s not found." % (name, account), "DescribeStream of a missing stream")


@step("split-shard", ["iterator-at-timestamp"])
def _():
    c.split_shard(StreamName=name, ShardToSplit=S0, NewStartingHashKey=str(Q))
    wait_active("SplitShard")
    eq([(s["ShardId"],) + rng(s) + (is_open(s), s.get("ParentShardId")) for s in all_shards()],
       [(S0, 0, HALF - 1, False, None), (S1, HALF, TOP, True, None),
        (S2, 0, Q - 1, True, S0), (S3, Q, HALF - 1, True, S0)], "ListShards after SplitShard")
    # The closed parent still serves its records, then reports its children.
    recs, last = read_all(iterator(S0, "TRIM_HORIZON"), until_end=True)
    same_records(recs, put[S0], "closed parent TRIM_HORIZON")
    eq(last.get("NextShardIterator"), None, "closed parent: no NextShardIterator at its end")
    eq([(x["ShardId"], x["ParentShards"]) for x in last.get("ChildShards", [])], [(S2, [S0]), (S3, [S0])], "closed parent ChildShards")


@step("merge-shards", ["split-shard"])
def _():
    c.merge_shards(StreamName=name, ShardToMerge=S2, AdjacentShardToMerge=S3)
    wait_active("MergeShards")
    eq([(s["ShardId"],) + rng(s) + (is_open(s), s.get("ParentShardId"), s.get("AdjacentParentShardId")) for s in all_shards()],
       [(S0, 0, HALF - 1, False, None, None), (S1, HALF, TOP, True, None, None),
        (S2, 0, Q - 1, False, S0, None), (S3, Q, HALF - 1, False, S0, None),
        (S4, 0, HALF - 1, True, S2, S3)], "ListShards after MergeShards")
    d = c.describe_stream(StreamName=name)["StreamDescription"]
    eq([s["ShardId"] for s in d["Shards"]], [S0, S1, S2, S3, S4], "DescribeStream lists the closed parents")


@step("update-shard-count", ["wait-active"])
def _():
    # Independent of split/merge: from whatever open set the stream has
    # (2 or 3 shards), uniform scaling to 4.
    before = [s["ShardId"] for s in all_shards() if is_open(s)]
    r = c.update_shard_count(StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    eq([r["StreamName"], r["CurrentShardCount"], r["TargetShardCount"]], [name, len(before), 4], "UpdateShardCount response")
    wait_active("UpdateShardCount")
    eq(c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"], 4, "OpenShardCount after UpdateShardCount")
    shards = all_shards()
    opened = sorted((s for s in shards if is_open(s)), key=lambda s: rng(s)[0])
    eq([rng(s) for s in opened], [(0, Q - 1), (Q, 2 * Q - 1), (2 * Q, 3 * Q - 1), (3 * Q, TOP)], "open shards tile the key space evenly")
    known = {s["ShardId"] for s in shards}
    for o in opened:
        check(o.get("ParentShardId") in known, "new shard %s has a listed parent" % o["ShardId"], o)
    # A shard whose range already is one of the targets may stay open (a
    # split or merge of it would only re-create the same range); every
    # other one was split or merged, so it is closed.
    targets = [(0, Q - 1), (Q, 2 * Q - 1), (2 * Q, 3 * Q - 1), (3 * Q, TOP)]
    for old in before:
        s = [s for s in shards if s["ShardId"] == old][0]
        check(not is_open(s) or rng(s) in targets, "%s closed after UpdateShardCount (or open with a target range)" % old, shards)


@step("put-after-reshard", ["update-shard-count"])
def _():
    data = b"after resharding"
    r = c.put_record(StreamName=name, PartitionKey="a", Data=data)
    home = [s for s in all_shards() if is_open(s) and rng(s)[0] <= hash_of("a") <= rng(s)[1]]
    eq(r["ShardId"], home[0]["ShardId"], "PutRecord lands in the open shard that owns md5(a)")
    recs, _ = read_all(iterator(r["ShardId"], "TRIM_HORIZON"))
    same_records(recs, [{"pk": "a", "data": data, "seq": r["SequenceNumber"]}], "new shard TRIM_HORIZON")


def tags():
    return sorted((t["Key"], t["Value"]) for t in c.list_tags_for_stream(StreamName=name)["Tags"])


@step("tags-stream", ["wait-active"])
def _():
    c.add_tags_to_stream(StreamName=name, Tags={"env": "test", "team": "sluice"})
    eq(tags(), [("env", "test"), ("team", "sluice")], "ListTagsForStream after AddTagsToStream")
    eq(c.list_tags_for_stream(StreamName=name)["HasMoreTags"], False, "HasMoreTags")
    c.remove_tags_from_stream(StreamName=name, TagKeys=["team", "absent"])
    eq(tags(), [("env", "test")], "ListTagsForStream after RemoveTagsFromStream")


@step("tags-resource", ["tags-stream"])
def _():
    c.tag_resource(ResourceARN=arn, Tags={"owner": "h5"})
    r = c.list_tags_for_resource(ResourceARN=arn)
    eq(sorted((t["Key"], t["Value"]) for t in r["Tags"]), [("env", "test"), ("owner", "h5")], "ListTagsForResource")
    c.untag_resource(ResourceARN=arn, TagKeys=["env"])
    eq(tags(), [("owner", "h5")], "ListTagsForStream after UntagResource")


@step("retention", ["wait-active"])
def _():
    def hours():
        return c.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"]

    c.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    wait_active("IncreaseStreamRetentionPeriod")
    eq(hours(), 48, "RetentionPeriodHours after Increase")
    c.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
    wait_active("DecreaseStreamRetentionPeriod")
    eq(hours(), 24, "RetentionPeriodHours after Decrease")
    expect_error(lambda: c.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=12),
                 "InvalidArgumentException", None, "DecreaseStreamRetentionPeriod below 24 h")


@step("delete-stream", ["wait-active"])
def _():
    c.delete_stream(StreamName=name)
    deadline = time.time() + 30
    while True:
        try:
            c.describe_stream_summary(StreamName=name)
        except ClientError as e:
            err = e.response["Error"]
            eq([err["Code"], err["Message"]], ["ResourceNotFoundException", "Stream %s under account %s not found." % (name, account)],
               "DescribeStreamSummary after DeleteStream")
            break
        check(time.time() < deadline, "stream still there 30 s after DeleteStream")
        time.sleep(0.1)
    check(name not in c.list_streams()["StreamNames"], "ListStreams after DeleteStream")
    expect_error(lambda: c.put_record(StreamName=name, PartitionKey="a", Data=b"x"),
                 "ResourceNotFoundException", None, "PutRecord after DeleteStream")


sys.exit(1 if failed else 0)
