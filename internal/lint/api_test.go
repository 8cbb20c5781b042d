package lint

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// bannedImports may not be imported by any file, tests included.
var bannedImports = []struct{ path, why string }{
	{"io/ioutil", "deprecated; use io and os (STYLE.md: avoid io/ioutil)"},
}

// bannedCall is a package-level function that only the programs may use.
type bannedCall struct {
	pkg, name, why string
}

// bannedCalls may be used only by non-test files under programsOnly
// (STYLE.md section 1: only cmd/, tools/ and bench/ parse flags, read env
// vars, call os.Exit or install signal handlers). Any reference counts, not
// only a call: `exit := os.Exit` is caught too.
var bannedCalls = []bannedCall{
	{"flag", "Parse", "libraries take a Config struct; only programs parse flags"},
	{"os", "Exit", "libraries return errors; only programs decide the exit code"},
	{"os/signal", "Notify", "only programs install signal handlers"},
	{"os/signal", "NotifyContext", "only programs install signal handlers"},
	{"os", "Getenv", "libraries take a Config struct; only programs read the environment"},
	{"os", "LookupEnv", "libraries take a Config struct; only programs read the environment"},
}

var programsOnly = []string{"cmd/...", "tools/...", "bench/..."}

// checkFileAPI checks one Go file, named by its module-relative path rel
// (slash-separated), against bannedImports and bannedCalls. src is the file
// content (anything parser.ParseFile accepts).
func checkFileAPI(rel string, src any) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var violations []string
	// local names of the imports that bannedCalls names.
	local := make(map[string]string)
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: bad import path %s", fset.Position(imp.Pos()), imp.Path.Value)
		}
		for _, b := range bannedImports {
			if p == b.path {
				violations = append(violations, fmt.Sprintf("%s: imports %s: %s", fset.Position(imp.Pos()), p, b.why))
			}
		}
		name := path.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "_" {
			continue
		}
		if name == "." {
			// A dot import hides the package name; reject it for the
			// packages whose functions are banned rather than guess.
			if slices.ContainsFunc(bannedCalls, func(b bannedCall) bool { return b.pkg == p }) && !programFile(rel) {
				violations = append(violations, fmt.Sprintf("%s: dot import of %s outside %s", fset.Position(imp.Pos()), p, strings.Join(programsOnly, ", ")))
			}
			continue
		}
		local[name] = p
	}
	if programFile(rel) {
		return violations, nil
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		p, ok := local[id.Name]
		if !ok {
			return true
		}
		for _, b := range bannedCalls {
			if b.pkg == p && b.name == sel.Sel.Name {
				violations = append(violations, fmt.Sprintf("%s: %s.%s outside %s: %s",
					fset.Position(sel.Pos()), path.Base(p), b.name, strings.Join(programsOnly, ", "), b.why))
			}
		}
		return true
	})
	return violations, nil
}

// programFile reports whether bannedCalls are allowed in the file rel: it
// is under a program folder, or it is a test file (never linked into a
// library).
func programFile(rel string) bool {
	if strings.HasSuffix(rel, "_test.go") {
		return true
	}
	dir := path.Dir(rel)
	return slices.ContainsFunc(programsOnly, func(pat string) bool { return matchRel(pat, dir) })
}

func TestLintBannedAPIs(t *testing.T) {
	root, modulePath := moduleRoot(t)
	files := 0
	for _, p := range goList(t, root) {
		if _, ok := relPath(modulePath, p.ImportPath); !ok || p.Dir == "" {
			continue
		}
		names := slices.Concat(p.GoFiles, p.CgoFiles, p.IgnoredGoFiles, p.TestGoFiles, p.XTestGoFiles)
		slices.Sort(names)
		for _, name := range slices.Compact(names) {
			if !strings.HasSuffix(name, ".go") {
				continue
			}
			abs := filepath.Join(p.Dir, name)
			rel, err := filepath.Rel(root, abs)
			if err != nil {
				t.Fatalf("%s: %v", abs, err)
			}
			violations, err := checkFileAPI(filepath.ToSlash(rel), readFile(t, abs))
			if err != nil {
				// A file mid-edit: the build and go vet report it.
				t.Logf("skipping %s: %v", rel, err)
				continue
			}
			files++
			for _, v := range violations {
				t.Error(v)
			}
		}
	}
	if files == 0 {
		t.Fatalf("no Go files of module %s checked in %s", modulePath, root)
	}
}
