package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchReportReplaceSectionOnlyItsOwn(t *testing.T) {
	doc := "# Results\n\nintro kept\n\n" +
		"<!-- other:begin -->\nother body\n<!-- other:end -->\n\n" +
		"<!-- segment:begin -->\nold segment body\nmore\n<!-- segment:end -->\n\n" +
		"trailer kept\n<!-- wire:begin -->\nwire body\n<!-- wire:end -->\n"
	got, err := ReplaceSection(doc, "segment", "new body\n\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Results\n\nintro kept\n\n" +
		"<!-- other:begin -->\nother body\n<!-- other:end -->\n\n" +
		"<!-- segment:begin -->\nnew body\n<!-- segment:end -->\n\n" +
		"trailer kept\n<!-- wire:begin -->\nwire body\n<!-- wire:end -->\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	// Replacing again with the same body changes nothing.
	again, err := ReplaceSection(got, "segment", "new body")
	if err != nil || again != got {
		t.Fatalf("second replace changed the document (err %v):\n%s", err, again)
	}
}

func TestBenchReportReplaceSectionAppendAndErrors(t *testing.T) {
	got, err := ReplaceSection("# T\nnotes", "segment", "b")
	if err != nil {
		t.Fatal(err)
	}
	if got != "# T\nnotes\n\n<!-- segment:begin -->\nb\n<!-- segment:end -->\n" {
		t.Fatalf("append: %q", got)
	}
	bad := map[string]string{
		"no end":      "<!-- segment:begin -->\nx\n",
		"no begin":    "x\n<!-- segment:end -->\n",
		"reversed":    "<!-- segment:end -->\n<!-- segment:begin -->\n",
		"duplicated":  "<!-- segment:begin -->\n<!-- segment:end -->\n<!-- segment:begin -->\n<!-- segment:end -->\n",
		"bad section": "",
	}
	for name, doc := range bad {
		section := "segment"
		if name == "bad section" {
			section = "has space"
		}
		if _, err := ReplaceSection(doc, section, "b"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestBenchReportWriteSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "RESULTS.md")
	if err := WriteSection(path, "Benchmark results", "segment", "first"); err != nil {
		t.Fatal(err)
	}
	if err := WriteSection(path, "ignored", "wire", "w"); err != nil {
		t.Fatal(err)
	}
	if err := WriteSection(path, "ignored", "segment", "second"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmark results\n\n<!-- segment:begin -->\nsecond\n<!-- segment:end -->\n\n<!-- wire:begin -->\nw\n<!-- wire:end -->\n"
	if string(b) != want {
		t.Fatalf("file:\n%q\nwant:\n%q", b, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestBenchReportTable(t *testing.T) {
	tb := Table{Header: []string{"name", "value"}, Align: []byte{'l', 'r'}}
	tb.Add("a|b", "1")
	tb.Add("long name", "12345")
	got := tb.Markdown()
	want := "| name      | value |\n" +
		"| --------- | ----: |\n" +
		"| a\\|b      |     1 |\n" +
		"| long name | 12345 |\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if strings.Count(got, "\n") != 4 {
		t.Fatal("wrong line count")
	}
}
