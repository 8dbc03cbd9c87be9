// Command lincheck checks a recorded history of Lightspeed Orchestrator calls for
// linearizability against a per-key model of the batch life cycle (SPEC section 3), with
// Porcupine (github.com/anishathalye/porcupine).
//
//	lincheck [-timeout 60s] [-max-failures 10] [-html FILE] history.jsonl
//
// Prints "OK ..." and exits 0 when every key's history is linearizable. Otherwise it names the
// failing keys, writes Porcupine's visualization of them to FILE (default: the history file's
// name with ".html" added, next to it) and exits 1. Exit 2: undecided within the timeout;
// exit 3: the history file could not be read. docs/cluster.md ("Checking histories") describes
// the file and the model.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	flags := flag.NewFlagSet("lincheck", flag.ContinueOnError)
	timeout := flags.Duration("timeout", 60*time.Second, "the longest time to spend on one key (0 = no limit)")
	maxFailures := flags.Int("max-failures", 10, "stop after this many failing keys (0 = check every key)")
	html := flags.String("html", "", "where to write the visualization of a failure (default: HISTORY.html)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: lincheck [-timeout 60s] [-max-failures 10] [-html FILE] history.jsonl")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 3
	}
	if flags.NArg() != 1 {
		flags.Usage()
		return 3
	}
	path := flags.Arg(0)
	if *html == "" {
		*html = path + ".html"
	}
	calls, err := ReadHistoryFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lincheck: %s: %v\n", path, err)
		return 3
	}
	partitions, err := Split(calls)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lincheck: %s: %v\n", path, err)
		return 3
	}
	started := time.Now()
	v := Check(partitions, *timeout, *maxFailures)
	summary := fmt.Sprintf("%d calls, %d keys, %d per-key operations, checked in %v",
		len(calls), v.Partitions, v.Operations, time.Since(started).Round(time.Millisecond))
	if len(v.Illegal) > 0 {
		atLeast := ""
		if v.Stopped {
			atLeast = "at least "
		}
		fmt.Printf("NOT LINEARIZABLE: %s%d of %d keys: %s (%s)\n", atLeast, len(v.Illegal), v.Partitions, keys(v.Illegal), summary)
		if err := Visualize(v.Illegal, *html, *timeout); err != nil {
			fmt.Fprintf(os.Stderr, "lincheck: writing the visualization: %v\n", err)
		} else {
			fmt.Printf("visualization: %s\n", *html)
		}
		return 1
	}
	if len(v.TimedOut) > 0 {
		fmt.Printf("UNDECIDED: %d keys not decided within %v: %s (%s)\n", len(v.TimedOut), *timeout, keys(v.TimedOut), summary)
		return 2
	}
	fmt.Printf("OK: linearizable (%s)\n", summary)
	return 0
}

func keys(ps []Partition) string {
	const shown = 10
	var names []string
	for i, p := range ps {
		if i == shown {
			names = append(names, fmt.Sprintf("and %d more", len(ps)-shown))
			break
		}
		names = append(names, p.Key)
	}
	return strings.Join(names, ", ")
}
