package lint

import (
	"strings"
	"testing"
)

const fakeModule = "example.com/m"

// fakePackages builds a `go list -deps` style list from a map of import
// path -> direct imports; Deps are computed transitively, Standard from the
// path, as go list would.
func fakePackages(imports map[string][]string) []listedPackage {
	var deps func(path string, seen map[string]bool)
	deps = func(path string, seen map[string]bool) {
		for _, imp := range imports[path] {
			if !seen[imp] {
				seen[imp] = true
				deps(imp, seen)
			}
		}
	}
	var pkgs []listedPackage
	for path, imps := range imports {
		seen := make(map[string]bool)
		deps(path, seen)
		p := listedPackage{ImportPath: path, Imports: imps}
		for d := range seen {
			p.Deps = append(p.Deps, d)
		}
		first, _, _ := strings.Cut(path, "/")
		p.Standard = !strings.Contains(first, ".")
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestLintDepsCheckerCatchesViolations(t *testing.T) {
	m := func(rel string) string { return fakeModule + "/" + rel }
	// f checks one package graph: every want must appear in a violation
	// and there must be exactly len(wants) violations.
	f := func(imports map[string][]string, wants ...string) {
		t.Helper()
		got := checkDeps(fakeModule, fakePackages(imports), depRules)
		if len(got) != len(wants) {
			t.Fatalf("got %d violations, want %d:\n%s", len(got), len(wants), strings.Join(got, "\n"))
		}
		for _, w := range wants {
			found := false
			for _, v := range got {
				if strings.Contains(v, w) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no violation contains %q:\n%s", w, strings.Join(got, "\n"))
			}
		}
	}

	// A clean graph that uses every permission of the table.
	f(map[string][]string{
		m("wire/kinesis"):     {"encoding/json", "github.com/fxamacker/cbor/v2", "github.com/valyala/fastjson", m("wire/eventstream"), m("internal/bufpool")},
		m("wire/eventstream"): {"hash/crc32", "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"},
		m("internal/bufpool"): {"sync"},
		m("internal/fsx"):     {"os", m("internal/bufpool")},
		m("segment"):          {"os", m("internal/fsx"), "github.com/cespare/xxhash/v2", "github.com/klauspost/reedsolomon", "golang.org/x/sys/unix", "github.com/VictoriaMetrics/metrics"},
		// metrics itself may use net/http: the rule is about our code.
		"github.com/VictoriaMetrics/metrics": {"net/http"},
		"github.com/cespare/xxhash/v2":       {"math/bits"},
		"github.com/klauspost/reedsolomon":   {"github.com/klauspost/cpuid/v2"},
		"github.com/klauspost/cpuid/v2":      {"runtime"},
		"github.com/fxamacker/cbor/v2":       {"github.com/x448/float16"},
		m("stream"):                          {m("segment"), m("internal/bufpool"), "encoding/binary"},
		m("ingress/httpapi"):                 {m("wire/kinesis"), m("stream"), m("ingress"), "github.com/valyala/fasthttp"},
		m("ingress"):                         {m("stream")},
		m("fanout"):                          {m("wire/eventstream"), m("stream"), "net/http"},
		m("sinks/s3"):                        {m("stream"), "net/http"},
		m("cmd/sluice"):                      {m("ingress/httpapi"), m("fanout"), m("sinks/s3"), m("cmd/sluice/internal/wiring")},
		m("cmd/sluice/internal/wiring"):      {m("stream")},
		m("tools/sluicectl"):                 {m("segment"), m("stream")},
		m("bench/cmd/sluice-bench"):          {m("bench/internal/stats"), m("wire/kinesis")},
		m("bench/internal/stats"):            {"math"},
	})

	f(map[string][]string{
		m("wire/kinesis"): {m("segment")},
		m("segment"):      {"os"},
	}, "wire/kinesis must not depend on example.com/m/segment")

	// Transitive: wire -> internal/bufpool -> internal/fsx is a module
	// package other than internal/bufpool; and an external library wire
	// may not use.
	f(map[string][]string{
		m("wire/kinesis"):     {m("internal/bufpool"), "github.com/some/lib"},
		m("internal/bufpool"): {m("internal/fsx")},
		m("internal/fsx"):     {"os"},
	}, "wire/kinesis -> example.com/m/internal/bufpool -> example.com/m/internal/fsx", "must not depend on github.com/some/lib")

	f(map[string][]string{
		m("segment"): {"net/http", "github.com/panjf2000/gnet/v2", m("stream")},
		m("stream"):  {"sort"},
	}, "segment must not depend on net/http", "gnet/v2", "segment must not depend on example.com/m/stream")

	// segment reaching net/http through a module package is caught too.
	f(map[string][]string{
		m("segment"):        {m("internal/httpx")},
		m("internal/httpx"): {"net/http/httptrace"},
	}, "segment -> example.com/m/internal/httpx -> net/http/httptrace")

	f(map[string][]string{
		m("stream"):       {m("wire/kinesis"), "net/http"},
		m("wire/kinesis"): {"encoding/json"},
	}, "stream must not depend on example.com/m/wire/kinesis", "stream must not depend on net/http")

	f(map[string][]string{
		m("ingress/httpapi"): {m("fanout")},
		m("fanout"):          {m("sinks/s3")},
		m("sinks/s3"):        {m("ingress")},
		m("ingress"):         {"sync"},
	},
		"ingress/httpapi must not depend on example.com/m/fanout",
		"ingress/httpapi must not depend on example.com/m/sinks/s3",
		"fanout must not depend on example.com/m/sinks/s3",
		"fanout must not depend on example.com/m/ingress (",
		"sinks/s3 must not depend on example.com/m/ingress:",
	)

	f(map[string][]string{
		m("internal/testutil"): {m("segment")},
		m("segment"):           {"os"},
	}, "internal/testutil must not depend on example.com/m/segment")

	f(map[string][]string{
		m("stream"):          {m("tools/sluicectl")},
		m("tools/sluicectl"): {"os"},
		m("cmd/sluice"):      {m("bench/report")},
		m("bench/report"):    {"os"},
	},
		"stream must not depend on example.com/m/tools/sluicectl: nothing imports",
		"stream must not depend on example.com/m/tools/sluicectl: stream is",
		"cmd/sluice must not depend on example.com/m/bench/report",
	)
}

func TestLintAPICheckerCatchesViolations(t *testing.T) {
	f := func(rel, src string, wants ...string) {
		t.Helper()
		got, err := checkFileAPI(rel, src)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if len(got) != len(wants) {
			t.Fatalf("%s: got %d violations, want %d:\n%s", rel, len(got), len(wants), strings.Join(got, "\n"))
		}
		for i, w := range wants {
			if !strings.Contains(got[i], w) {
				t.Fatalf("%s: violation %q does not contain %q", rel, got[i], w)
			}
		}
	}

	lib := `package segment

import (
	"flag"
	o "os"
	sig "os/signal"
)

var exit = o.Exit

func f() {
	flag.Parse()
	sig.Notify(nil)
	_ = o.Getenv("X")
	o.Exit(1)
}
`
	f("segment/x.go", lib, "os.Exit", "flag.Parse", "signal.Notify", "os.Getenv", "os.Exit")
	f("internal/fsx/x.go", lib, "os.Exit", "flag.Parse", "signal.Notify", "os.Getenv", "os.Exit")
	// Programs and tests may.
	f("cmd/sluice/main.go", lib)
	f("tools/sluicectl/main.go", lib)
	f("bench/cmd/sluice-bench/main.go", lib)
	f("segment/x_test.go", lib)
	// A folder that merely starts like a program folder is a library.
	f("commands/x.go", lib, "os.Exit", "flag.Parse", "signal.Notify", "os.Getenv", "os.Exit")

	ioutil := "package x\n\nimport \"io/ioutil\"\n\nvar _ = ioutil.Discard\n"
	f("segment/x.go", ioutil, "io/ioutil")
	f("segment/x_test.go", ioutil, "io/ioutil")
	f("cmd/sluice/x.go", ioutil, "io/ioutil")

	f("stream/x.go", "package x\n\nimport . \"os\"\n\nfunc f() { Exit(1) }\n", "dot import of os")
	// Other functions of the same packages, and same-named methods, are fine.
	f("stream/x.go", `package x

import (
	"flag"
	"os"
)

type fs struct{}

func (fs) Parse() {}

func f() {
	var flagSet fs
	flagSet.Parse()
	_ = flag.NewFlagSet("x", flag.ContinueOnError)
	_, _ = os.Open("x")
}
`)

	if _, err := checkFileAPI("x.go", "package x\nfunc {"); err == nil {
		t.Fatalf("a file that does not parse gave no error")
	}
}
