package httpapi

import (
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// TestControlPlaneCBOR runs control-plane handlers on CBOR requests (as
// the Java SDK sends them) and decodes their CBOR answers: the handlers
// take the encoding from the request, through decodeModel and writeModel.
// The dispatcher does not route CBOR to them yet, so the handlers are
// called directly.
func TestControlPlaneCBOR(t *testing.T) {
	m := openManager(t)
	s, err := New(Config{Manager: m, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := cbor.DecOptions{DefaultMapType: reflect.TypeFor[map[string]any]()}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	call := func(op string, in map[string]any) map[string]any {
		t.Helper()
		body, err := cbor.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		req := &Request{Body: body, Encoding: EncodingCBOR, RequestID: "test"}
		resp := &Response{w: rec, requestID: "test"}
		if err := s.ops[op](s, req, resp); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if rec.Code != 200 || rec.Header().Get("Content-Type") != contentCBOR {
			t.Fatalf("%s: status %d, Content-Type %q", op, rec.Code, rec.Header().Get("Content-Type"))
		}
		if rec.Body.Len() == 0 {
			return nil
		}
		var out map[string]any
		if err := dec.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: %v (% x)", op, err, rec.Body.Bytes())
		}
		return out
	}
	if out := call("CreateStream", map[string]any{"StreamName": "c", "ShardCount": 2, "MaxRecordSizeInKiB": 2048}); out != nil {
		t.Errorf("CreateStream answered %v", out)
	}
	sum := call("DescribeStreamSummary", map[string]any{"StreamName": "c"})["StreamDescriptionSummary"].(map[string]any)
	if sum["StreamName"] != "c" || sum["OpenShardCount"] != uint64(2) || sum["MaxRecordSizeInKiB"] != uint64(2048) ||
		sum["EncryptionType"] != "NONE" || sum["StreamModeDetails"].(map[string]any)["StreamMode"] != "PROVISIONED" {
		t.Errorf("DescribeStreamSummary: %v", sum)
	}
	// Timestamps are tag 1 with integer milliseconds (KINESIS_API.md 1.3);
	// the library reads the integer as seconds.
	created, ok := sum["StreamCreationTimestamp"].(time.Time)
	if ok {
		created = time.UnixMilli(created.Unix())
	}
	if !ok || time.Since(created) > time.Minute || created.After(time.Now().Add(time.Second)) {
		t.Errorf("StreamCreationTimestamp %T %v", sum["StreamCreationTimestamp"], sum["StreamCreationTimestamp"])
	}
	uc := call("UpdateShardCount", map[string]any{"StreamName": "c", "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"})
	if uc["CurrentShardCount"] != uint64(2) || uc["TargetShardCount"] != uint64(4) || uc["StreamARN"] != "arn:aws:kinesis:us-east-1:000000000000:stream/c" {
		t.Errorf("UpdateShardCount: %v", uc)
	}
	ls := call("ListShards", map[string]any{"StreamName": "c", "ShardFilter": map[string]any{"Type": "AT_LATEST"}})
	shards := ls["Shards"].([]any)
	var ids []string
	for _, sh := range shards {
		ids = append(ids, sh.(map[string]any)["ShardId"].(string))
	}
	if len(ids) != 4 || ls["NextToken"] != nil {
		t.Errorf("ListShards AT_LATEST: %v", ls)
	}
	em := call("EnableEnhancedMonitoring", map[string]any{"StreamName": "c", "ShardLevelMetrics": []string{"IncomingBytes"}})
	if em["StreamName"] != "c" || len(em["CurrentShardLevelMetrics"].([]any)) != 0 ||
		!slices.Equal(em["DesiredShardLevelMetrics"].([]any), []any{"IncomingBytes"}) {
		t.Errorf("EnableEnhancedMonitoring: %v", em)
	}
	call("IncreaseStreamRetentionPeriod", map[string]any{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/c", "RetentionPeriodHours": 72})
	list := call("ListStreams", map[string]any{})
	if !slices.Equal(list["StreamNames"].([]any), []any{"c"}) || list["HasMoreStreams"] != false {
		t.Errorf("ListStreams: %v", list)
	}
	info, err := m.DescribeStream("c")
	if err != nil || info.RetentionHours != 72 || !slices.Equal(info.ShardLevelMetrics, []string{"IncomingBytes"}) {
		t.Errorf("stream after the CBOR calls: %+v, %v", info.StreamSettings, err)
	}
	call("DeleteStream", map[string]any{"StreamName": "c"})
	if names := m.ListStreams(); len(names) != 0 {
		t.Errorf("streams after DeleteStream: %v", names)
	}
}
