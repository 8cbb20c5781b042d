// Package report writes benchmark results into a shared Markdown file.
//
// Each benchmark suite owns one section of the file, delimited by the
// markers "<!-- NAME:begin -->" and "<!-- NAME:end -->". Rewriting a section
// leaves the rest of the file (other suites' sections, hand-written notes)
// byte for byte as it was, so suites can be re-run independently.
//
// Functions keep no state. WriteSection is not safe against concurrent
// writers of the same file (the last rename wins).
package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Markers returns the begin and end markers of section name.
func Markers(name string) (begin, end string) {
	return "<!-- " + name + ":begin -->", "<!-- " + name + ":end -->"
}

// ReplaceSection returns doc with the body of section name replaced by body.
// The markers stay on lines of their own. A missing section is appended at
// the end of doc. A section whose markers are duplicated, unpaired or out of
// order is an error: guessing could destroy another section.
func ReplaceSection(doc, name, body string) (string, error) {
	if name == "" || strings.ContainsAny(name, " \n") {
		return "", fmt.Errorf("report: invalid section name %q", name)
	}
	begin, end := Markers(name)
	nb, ne := strings.Count(doc, begin), strings.Count(doc, end)
	body = strings.TrimRight(body, "\n") + "\n"
	section := begin + "\n" + body + end
	switch {
	case nb == 0 && ne == 0:
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		if doc != "" {
			doc += "\n"
		}
		return doc + section + "\n", nil
	case nb != 1 || ne != 1:
		return "", fmt.Errorf("report: section %q has %d begin and %d end markers; fix the file by hand", name, nb, ne)
	}
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if j < i {
		return "", fmt.Errorf("report: section %q ends before it begins; fix the file by hand", name)
	}
	return doc[:i] + section + doc[j+len(end):], nil
}

// WriteSection replaces section name of the Markdown file at path with body.
// A missing file is created with "# title" and a blank line first. The file
// is replaced atomically (temporary file and rename).
func WriteSection(path, title, name, body string) error {
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		old, err = []byte("# "+title+"\n"), nil
	}
	if err != nil {
		return fmt.Errorf("cannot read results file %q: %w", path, err)
	}
	doc, err := ReplaceSection(string(old), name, body)
	if err != nil {
		return fmt.Errorf("cannot update results file %q: %w", path, err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cannot create directory %q: %w", dir, err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write results file %q: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(doc); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %q: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot chmod %q: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %q: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot replace results file %q: %w", path, err)
	}
	return nil
}

// Table is a Markdown table.
type Table struct {
	Header []string
	Align  []byte // per column: 'l' (default) or 'r'
	Rows   [][]string
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Markdown renders the table, padding cells so the source lines up too.
// Pipes inside cells are escaped.
func (t *Table) Markdown() string {
	width := make([]int, len(t.Header))
	cell := func(row []string, c int) string {
		if c < len(row) {
			return strings.ReplaceAll(row[c], "|", `\|`)
		}
		return ""
	}
	for c := range t.Header {
		width[c] = max(3, len(cell(t.Header, c)))
		for _, r := range t.Rows {
			width[c] = max(width[c], len(cell(r, c)))
		}
	}
	right := func(c int) bool { return c < len(t.Align) && t.Align[c] == 'r' }
	var b strings.Builder
	line := func(row []string) {
		b.WriteString("|")
		for c := range t.Header {
			s := cell(row, c)
			pad := strings.Repeat(" ", width[c]-len(s))
			if right(c) {
				b.WriteString(" " + pad + s + " |")
			} else {
				b.WriteString(" " + s + pad + " |")
			}
		}
		b.WriteString("\n")
	}
	line(t.Header)
	b.WriteString("|")
	for c := range t.Header {
		if right(c) {
			b.WriteString(" " + strings.Repeat("-", width[c]-1) + ": |")
		} else {
			b.WriteString(" " + strings.Repeat("-", width[c]) + " |")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		line(r)
	}
	return b.String()
}
