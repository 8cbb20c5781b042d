package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes; see doc.go.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	programName = "sluicectl"
)

const usageText = `usage: sluicectl COMMAND [ARGS]

Commands:
  segment inspect [--json] DIR [DIR...]   describe the segments of one shard log (read-only)
  segment verify  [--json] DIR [DIR...]   check every checksum and report damage (read-only)
  segment repair  [--json] DIR [DIR...]   rebuild damaged fragment files from parity

DIR... are the data directories of ONE shard log, in the order the server
was given them: fragment j of every segment lives in DIR[j % number of DIRs].
Stop the server before running repair.

Exit status: 0 ok, 1 failure (damage found, records lost, log unreadable),
2 usage error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args (without the program name) and
// returns the exit code. Results go to stdout; usage text and errors to
// stderr.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, "no command given")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	case "segment":
		return runSegment(args[1:], stdout, stderr)
	}
	return usageError(stderr, fmt.Sprintf("unknown command %q", args[0]))
}

// usageError prints msg and the usage text to stderr and returns exitUsage.
func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "%s: %s\n\n%s", programName, msg, usageText)
	return exitUsage
}

// parseArgs parses flags anywhere among the positional arguments, so that
// both "verify --json DIR" and "verify DIR --json" work. "--" ends the
// flags: everything after it is positional (a directory named "-x").
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a flag set whose errors are returned, not printed:
// flagError prints them once, with the usage text.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// flagError turns a flag parsing error into an exit code: help is not an
// error, anything else is a usage error.
func flagError(err error, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	return usageError(stderr, strings.TrimSpace(err.Error()))
}
