// Package lint holds the project's policy tests; it has no non-test code.
//
// The tests enforce the dependency rules of DESIGN.md ("Layout and
// dependency direction") and STYLE.md section 1, the way Pebble's
// internal/lint does:
//
//   - TestLintDeps runs `go list -e -deps -json ./...` from the module root
//     and checks every package of the module against the table depRules
//     (deps_test.go). Module-internal dependencies are checked
//     transitively; external packages are checked as direct imports of the
//     package (an allow-list, where a rule has one) and as direct imports of
//     the package or of any module package it depends on (a deny-list, e.g.
//     net/http for segment). A package may always use packages in its own
//     top-level folder. Only non-test imports are checked: tests may use
//     helpers the production code may not.
//   - TestLintBannedAPIs parses every .go file of the module (go/parser)
//     and rejects io/ioutil anywhere, and flag.Parse, os.Exit,
//     signal.Notify(Context) and os.Getenv/LookupEnv in non-test files
//     outside cmd/, tools/ and bench/ (STYLE.md: only they parse flags,
//     read the environment, exit or install signal handlers).
//
// A rule for a folder that does not exist yet matches nothing and passes, so
// the table already names the folders of the design; a new top-level
// package gets its row when it lands. The checkers are plain functions over
// a package list or a source file, and checker_test.go feeds them fake
// inputs to prove that they catch violations.
//
// Packages that go list reports with an error (a package being edited that
// does not parse) are logged and skipped: the build and go vet report them.
package lint
