//go:build ignore

// gen_types regenerates types_gen.go; run it with `go generate`.
package main

import (
	"fmt"
	"os"

	"github.com/sluicehq/sluice/wire/kinesis/internal/gen"
)

func main() {
	if err := gen.Main("."); err != nil {
		fmt.Fprintln(os.Stderr, "gen_types:", err)
		os.Exit(1)
	}
}
