package stream

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Metadata file (DataDir/streams.json).
//
// One JSON document per manager, rewritten whole on every control-plane
// change and replaced atomically: written to streams.json.tmp, fsync'ed,
// renamed over streams.json, then the directory is fsync'ed. A crash leaves
// either the old or the new file; a stale .tmp is ignored and overwritten.
//
//	{"version": 1,
//	 "iteratorSecret": "<base64 of 32 bytes>",
//	 "streams": [{"name", "arn", "createdMillis", "retentionHours", "status",
//	              "pendingReshard": {"op", "shard", "adjacentShard",
//	                                 "newStartingHashKey", "target"},
//	              "shards": [{"index", "startingHashKey", "endingHashKey",
//	                          "parentShardId", "adjacentParentShardId",
//	                          "createdMillis", "closedMillis"}],
//	              "settings": {"mode", "tags", "encryptionType", "keyId",
//	                           "maxRecordSizeKiB", "warmThroughputMiBps",
//	                           "shardLevelMetrics", "policy",
//	                           "consumers": [{"name", "arn", "createdMillis",
//	                                          "tags", "policy"}]}}],
//	 "account": {"commitmentStatus", "startedMillis", "endedMillis",
//	             "earliestEndMillis"}}
//
// A shard with a non-zero closedMillis is closed (split, merged or replaced
// by UpdateShardCount); its EndingSequenceNumber derives from createdMillis,
// index and closedMillis, so it needs no field of its own. parentShardId and
// adjacentParentShardId are the lineage (ids of lower-index shards).
//
// Hash keys are decimal strings (they do not fit a JSON number). Fields are
// only ever added; a change that old code would misread needs version 2.
// The iterator secret lives here because iterators must survive restarts;
// the file is created with mode 0600.

const (
	metaVersion  = 1
	metaFileName = "streams.json"
	streamsDir   = "streams"
)

type metaFile struct {
	Version        int          `json:"version"`
	IteratorSecret []byte       `json:"iteratorSecret"`
	Streams        []streamMeta `json:"streams"`
	Account        *accountMeta `json:"account,omitempty"` // account.go
}

type streamMeta struct {
	Name           string      `json:"name"`
	ARN            string      `json:"arn"`
	CreatedMillis  int64       `json:"createdMillis"`
	RetentionHours int         `json:"retentionHours"`
	Status         string      `json:"status"`
	Shards         []shardMeta `json:"shards"`
	// Settings is nil in files written before it existed (settings.go).
	Settings *settingsMeta `json:"settings,omitempty"`
	// PendingReshard is the reshard a stream in UPDATING waits for
	// (Config.UpdateDelay); Open carries it out at once.
	PendingReshard *reshardOp `json:"pendingReshard,omitempty"`
}

type shardMeta struct {
	Index                 int    `json:"index"`
	StartingHashKey       string `json:"startingHashKey"`
	EndingHashKey         string `json:"endingHashKey"`
	ParentShardID         string `json:"parentShardId,omitempty"`
	AdjacentParentShardID string `json:"adjacentParentShardId,omitempty"`
	CreatedMillis         int64  `json:"createdMillis"`
	ClosedMillis          int64  `json:"closedMillis"`
}

// readMeta reads dataDir/streams.json; it returns (nil, nil) when the file
// does not exist.
func readMeta(dataDir string) (*metaFile, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, metaFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stream: reading metadata: %w", err)
	}
	var mf metaFile
	if err := json.Unmarshal(b, &mf); err != nil {
		return nil, fmt.Errorf("stream: parsing %s: %w", filepath.Join(dataDir, metaFileName), err)
	}
	if mf.Version != metaVersion {
		return nil, fmt.Errorf("stream: %s has version %d, this server reads version %d",
			filepath.Join(dataDir, metaFileName), mf.Version, metaVersion)
	}
	if len(mf.IteratorSecret) != iteratorSecretLen {
		return nil, fmt.Errorf("stream: %s: iterator secret is %d bytes, want %d",
			filepath.Join(dataDir, metaFileName), len(mf.IteratorSecret), iteratorSecretLen)
	}
	return &mf, nil
}

// writeMeta replaces dataDir/streams.json atomically with mf.
func writeMeta(dataDir string, mf *metaFile) error {
	b, err := json.MarshalIndent(mf, "", "  ")
	if err != nil {
		return fmt.Errorf("stream: encoding metadata: %w", err)
	}
	b = append(b, '\n')
	final := filepath.Join(dataDir, metaFileName)
	tmp := final + ".tmp"
	if err := writeFileSync(tmp, b); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("stream: replacing metadata: %w", err)
	}
	return syncDir(dataDir)
}

func writeFileSync(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("stream: writing metadata: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stream: writing metadata: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("stream: syncing %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stream: syncing %s: %w", dir, err)
	}
	return nil
}
