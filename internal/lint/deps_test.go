package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// depRule constrains the dependencies of the module packages that pkgs
// matches. Patterns over module packages are module-relative ("segment",
// "wire/...", "..." for all); patterns over other packages are import path
// prefixes matched on element boundaries ("net/http" covers
// net/http/httptest). A package may always depend on packages in its own
// top-level folder (wire/kinesis on wire/eventstream).
type depRule struct {
	// pkgs selects the module packages the rule applies to.
	pkgs string
	// onlyModule, when non-nil, lists the module packages the selected
	// packages may depend on, directly or transitively.
	onlyModule []string
	// denyModule lists module packages the selected packages must not
	// depend on, directly or transitively.
	denyModule []string
	// onlyExternal, when non-nil, lists the packages outside the module
	// and the stdlib that the selected packages may import directly (what
	// those libraries import in turn is their business).
	onlyExternal []string
	// denyExternal lists packages outside the module, stdlib included, that
	// neither a selected package nor any module package it depends on may
	// import. (VictoriaMetrics/metrics may use net/http for its push
	// client; segment may not, not even through internal/.)
	denyExternal []string
	// why is the rule in words, printed with every violation.
	why string
}

// Libraries named by the rules.
const (
	libCBOR        = "github.com/fxamacker/cbor"
	libFastJSON    = "github.com/valyala/fastjson"
	libProtowire   = "google.golang.org/protobuf/encoding/protowire"
	libEventStream = "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	libXXHash      = "github.com/cespare/xxhash"
	libReedSolomon = "github.com/klauspost/reedsolomon"
	libXSys        = "golang.org/x/sys"
	libMetrics     = "github.com/VictoriaMetrics/metrics"
	libGnet        = "github.com/panjf2000/gnet"
	libFastHTTP    = "github.com/valyala/fasthttp"
)

// depRules is the dependency policy of DESIGN.md and STYLE.md section 1.
// Rows for folders that do not exist yet match nothing; a new top-level
// package gets a row here when it lands.
var depRules = []depRule{
	{
		pkgs:         "wire/...",
		onlyModule:   []string{"internal/bufpool"},
		onlyExternal: []string{libCBOR, libFastJSON, libProtowire, libEventStream},
		why:          "wire/... is pure codecs: it may import only the stdlib, the codec libraries and internal/bufpool",
	},
	{
		pkgs:         "segment/...",
		onlyModule:   []string{"internal/..."},
		denyModule:   []string{"wire/...", "stream/...", "ingress/...", "fanout/...", "sinks/..."},
		onlyExternal: []string{libXXHash, libReedSolomon, libXSys, libMetrics},
		denyExternal: []string{"net/http", libGnet, libFastHTTP},
		why:          "segment is storage: it knows nothing of protocols or HTTP and may import only internal/..., xxhash, reedsolomon, x/sys, VictoriaMetrics/metrics and the stdlib",
	},
	{
		pkgs:         "stream/...",
		onlyModule:   []string{"segment/...", "internal/..."},
		denyExternal: []string{"net/http", libGnet, libFastHTTP},
		why:          "stream is the Kinesis domain: of the module it may import only segment and internal/..., and it knows nothing of HTTP",
	},
	{
		pkgs:       "ingress/...",
		onlyModule: []string{"wire/...", "stream/...", "segment/...", "internal/..."},
		denyModule: []string{"fanout/...", "sinks/..."},
		why:        "ingress, fanout and sinks never import each other (cmd/sluice wires them); shared code goes down into stream or internal",
	},
	{
		pkgs:       "fanout/...",
		onlyModule: []string{"wire/...", "stream/...", "segment/...", "internal/..."},
		denyModule: []string{"ingress/...", "sinks/..."},
		why:        "ingress, fanout and sinks never import each other (cmd/sluice wires them); shared code goes down into stream or internal",
	},
	{
		pkgs:       "sinks/...",
		onlyModule: []string{"wire/...", "stream/...", "segment/...", "internal/..."},
		denyModule: []string{"ingress/...", "fanout/..."},
		why:        "ingress, fanout and sinks never import each other (cmd/sluice wires them); shared code goes down into stream or internal",
	},
	{
		pkgs:       "client/...",
		onlyModule: []string{"wire/..."},
		why:        "client/... are client libraries of sluice's protocols: of the module they may import only the codecs in wire/...",
	},
	{
		pkgs:       "internal/...",
		onlyModule: []string{"internal/..."},
		why:        "internal/... holds leaf helpers and never imports the top-level packages",
	},
	{
		pkgs:       "...",
		denyModule: []string{"cmd/...", "tools/...", "bench/..."},
		why:        "nothing imports cmd/..., tools/... or bench/...",
	},
}

// checkDeps checks the module packages in pkgs (which must also hold their
// dependencies, as `go list -deps` prints them) against rules and returns
// one message per violation, sorted.
func checkDeps(modulePath string, pkgs []listedPackage, rules []depRule) []string {
	byPath := make(map[string]*listedPackage, len(pkgs))
	for i := range pkgs {
		byPath[pkgs[i].ImportPath] = &pkgs[i]
	}
	isStd := func(path string) bool {
		if p, ok := byPath[path]; ok {
			return p.Standard
		}
		// Not listed (a fake list in a test): stdlib paths have no dot in
		// their first element.
		first, _, _ := strings.Cut(path, "/")
		return !strings.Contains(first, ".")
	}

	var violations []string
	report := func(pkg, dep string, rule depRule, chain []string) {
		via := ""
		if len(chain) > 2 {
			via = " (" + strings.Join(chain, " -> ") + ")"
		}
		violations = append(violations, fmt.Sprintf("%s must not depend on %s%s: %s", pkg, dep, via, rule.why))
	}

	for i := range pkgs {
		p := &pkgs[i]
		rel, ok := relPath(modulePath, p.ImportPath)
		if !ok {
			continue
		}
		// The module packages p depends on, p itself first.
		var modDeps []string
		for _, d := range p.Deps {
			if _, ok := relPath(modulePath, d); ok {
				modDeps = append(modDeps, d)
			}
		}
		for _, rule := range rules {
			if !matchRel(rule.pkgs, rel) {
				continue
			}
			for _, d := range modDeps {
				drel, _ := relPath(modulePath, d)
				if topFolder(drel) == topFolder(rel) {
					continue
				}
				denied := slices.ContainsFunc(rule.denyModule, func(pat string) bool { return matchRel(pat, drel) })
				allowed := rule.onlyModule == nil || slices.ContainsFunc(rule.onlyModule, func(pat string) bool { return matchRel(pat, drel) })
				if denied || !allowed {
					report(p.ImportPath, d, rule, importChain(byPath, p.ImportPath, d))
				}
			}
			if rule.onlyExternal != nil {
				for _, imp := range p.Imports {
					if _, ok := relPath(modulePath, imp); ok || imp == "C" || isStd(imp) {
						continue
					}
					if !slices.ContainsFunc(rule.onlyExternal, func(pre string) bool { return matchImport(pre, imp) }) {
						report(p.ImportPath, imp, rule, nil)
					}
				}
			}
			if len(rule.denyExternal) > 0 {
				for _, q := range append([]string{p.ImportPath}, modDeps...) {
					qp, ok := byPath[q]
					if !ok {
						continue
					}
					for _, imp := range qp.Imports {
						if slices.ContainsFunc(rule.denyExternal, func(pre string) bool { return matchImport(pre, imp) }) {
							report(p.ImportPath, imp, rule, append(importChain(byPath, p.ImportPath, q), imp))
						}
					}
				}
			}
		}
	}
	sort.Strings(violations)
	return slices.Compact(violations)
}

// importChain returns a shortest import path from -> ... -> to through the
// listed packages, or just [from to] when none is found.
func importChain(byPath map[string]*listedPackage, from, to string) []string {
	if from == to {
		return []string{from}
	}
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		p, ok := byPath[cur]
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			if _, seen := prev[imp]; seen {
				continue
			}
			prev[imp] = cur
			if imp == to {
				var chain []string
				for n := to; n != ""; n = prev[n] {
					chain = append(chain, n)
				}
				slices.Reverse(chain)
				return chain
			}
			queue = append(queue, imp)
		}
	}
	return []string{from, to}
}

// modulePackages returns the packages of the module in pkgs, without those
// go list could not load (logged: the build reports them).
func modulePackages(t *testing.T, modulePath string, pkgs []listedPackage) []listedPackage {
	t.Helper()
	var out []listedPackage
	for _, p := range pkgs {
		if _, ok := relPath(modulePath, p.ImportPath); !ok {
			continue
		}
		if p.Error != nil {
			t.Logf("skipping %s: go list: %s", p.ImportPath, p.Error.Err)
			continue
		}
		out = append(out, p)
	}
	return out
}

func TestLintDeps(t *testing.T) {
	root, modulePath := moduleRoot(t)
	all := goList(t, root)
	mod := modulePackages(t, modulePath, all)
	if len(mod) == 0 {
		t.Fatalf("go list found no loadable packages of module %s in %s", modulePath, root)
	}
	// Keep the dependencies (for Standard and importChain), drop the
	// module packages that could not be loaded.
	var pkgs []listedPackage
	for _, p := range all {
		if _, ok := relPath(modulePath, p.ImportPath); !ok || p.Error == nil {
			pkgs = append(pkgs, p)
		}
	}
	for _, rule := range depRules {
		n := 0
		for _, p := range mod {
			if rel, _ := relPath(modulePath, p.ImportPath); matchRel(rule.pkgs, rel) {
				n++
			}
		}
		if n == 0 {
			t.Logf("rule for %s: no such packages yet", rule.pkgs)
		}
	}
	for _, v := range checkDeps(modulePath, pkgs, depRules) {
		t.Error(v)
	}
}
