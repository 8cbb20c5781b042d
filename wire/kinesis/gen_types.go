//go:build ignore

// gen_types regenerates types_gen.go; run it with `go generate`.
package main

import "github.com/sluicehq/sluice/wire/kinesis/internal/gen"

func main() {
	if err := gen.Main("."); err != nil {
		panic("gen_types: " + err.Error())
	}
}
