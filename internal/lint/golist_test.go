package lint

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listedPackage is the part of `go list -json` output the checkers use.
type listedPackage struct {
	ImportPath     string
	Dir            string
	Standard       bool
	Imports        []string // direct, non-test imports
	Deps           []string // transitive, non-test dependencies
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	TestGoFiles    []string
	XTestGoFiles   []string
	Error          *struct{ Err string }
}

// moduleRoot walks up from the working directory to the directory that
// holds go.mod, and returns it with the module path.
func moduleRoot(t *testing.T) (dir, modulePath string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for i := 0; i < 64; i++ { // bounded: no real tree is 64 levels deep
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			modulePath, err := parseModulePath(data)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Join(dir, "go.mod"), err)
			}
			return dir, modulePath
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("cannot read go.mod: %v", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	t.Fatalf("no go.mod above the working directory")
	return "", ""
}

// parseModulePath returns the path of the module directive of a go.mod file.
func parseModulePath(gomod []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`), nil
		}
	}
	return "", errors.New("no module directive")
}

// goList runs `go list -e -deps -json ./...` in root and returns every
// listed package, module and dependencies alike.
func goList(t *testing.T, root string) []listedPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("cannot find the go command in PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fields := "ImportPath,Dir,Standard,Imports,Deps,GoFiles,CgoFiles,IgnoredGoFiles,TestGoFiles,XTestGoFiles,Error"
	cmd := exec.CommandContext(ctx, goTool, "list", "-e", "-deps", "-json="+fields, "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs, err := decodePackages(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("go list output: %v", err)
	}
	return pkgs
}

// decodePackages reads the stream of JSON objects that go list prints.
func decodePackages(r io.Reader) ([]listedPackage, error) {
	var pkgs []listedPackage
	dec := json.NewDecoder(r)
	for {
		var p listedPackage
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			return pkgs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cannot decode package %d: %w", len(pkgs), err)
		}
		pkgs = append(pkgs, p)
	}
}

// relPath returns the module-relative path of importPath ("" for the module
// root) and whether importPath is in the module.
func relPath(modulePath, importPath string) (string, bool) {
	if importPath == modulePath {
		return "", true
	}
	if rest, ok := strings.CutPrefix(importPath, modulePath+"/"); ok {
		return rest, true
	}
	return "", false
}

// matchRel reports whether the module-relative path rel matches pattern:
// "..." matches everything, "dir/..." matches dir and everything below it,
// anything else matches itself only.
func matchRel(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

// matchImport reports whether importPath is prefix or below it, on path
// element boundaries: "net/http" matches net/http and net/http/httptest
// but not net/httpx; "github.com/fxamacker/cbor" matches .../cbor/v2.
func matchImport(prefix, importPath string) bool {
	return importPath == prefix || strings.HasPrefix(importPath, prefix+"/")
}

// topFolder is the first element of a module-relative path.
func topFolder(rel string) string {
	top, _, _ := strings.Cut(rel, "/")
	return top
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read %s: %v", path, err)
	}
	return data
}
