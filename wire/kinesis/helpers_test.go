package kinesis

import (
	"encoding/base64"
	"strconv"
)

// putRecordsBody returns a PutRecords body with n records of size bytes.
func putRecordsBody(n, size int) []byte {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b64 := base64.StdEncoding.EncodeToString(data)
	records := make([][2]string, n)
	for i := range records {
		records[i] = [2]string{"partition-key-" + strconv.Itoa(i), b64}
	}
	return AppendPutRecordsBodyForTest(nil, "stream-1", records)
}

// putRecordsResponse returns a successful response with n entries.
func putRecordsResponse(n int) *PutRecordsResponse {
	resp := &PutRecordsResponse{EncryptionType: "NONE", Records: make([]PutRecordsResultEntry, n)}
	for i := range resp.Records {
		resp.Records[i] = PutRecordsResultEntry{ShardID: "shardId-000000000003",
			SequenceNumber: "49647060812288014558888668248263847763900017820167045" + strconv.Itoa(100+i%900)}
	}
	resp.Records[7] = PutRecordsResultEntry{ErrorCode: RecordErrorInternalFailure, ErrorMessage: "Internal Service Failure"}
	resp.FailedRecordCount = 1
	return resp
}
