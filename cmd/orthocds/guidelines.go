package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/orthocds/orthocds/guidelines"
)

func runGuidelines(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("guidelines: give validate [DIR], stats [DIR], list [DIR] or verify [--min FRACTION] [DIR]")
	}
	sub, args := args[0], args[1:]
	minVerified := 0.0
	if sub == "verify" {
		fl := flag.NewFlagSet("guidelines verify", flag.ContinueOnError)
		fl.SetOutput(stderr)
		fl.Float64Var(&minVerified, "min", 0, "fail unless at least this fraction of entries is verified (0 to 1)")
		if err := fl.Parse(args); err != nil {
			return err
		}
		args = fl.Args()
	}
	var fsys fs.FS = guidelines.Embedded()
	where := "the shipped corpus"
	if len(args) > 0 {
		fsys, where = os.DirFS(args[0]), args[0]
	}
	c, err := guidelines.Load(fsys)
	if err != nil {
		return err
	}
	switch sub {
	case "validate":
		sources := map[string]bool{}
		for _, e := range c.Entries {
			sources[e.File] = true
		}
		fmt.Fprintf(stdout, "%s: %d entries in %d files, all valid\n", where, len(c.Entries), len(sources))
		return nil
	case "stats":
		c.Stats().Print(stdout)
		return nil
	case "list":
		for _, e := range c.Entries {
			fmt.Fprintf(stdout, "%-40s %-12s %-10s %d  %s\n", e.ID, e.Domain, e.Source.Key, e.Source.Year, e.Title.EN)
		}
		return nil
	case "verify":
		// Load has refused any entry whose grade is stated without a
		// verification record, or whose record misses a number.
		r := c.Verify()
		fmt.Fprintf(stdout, "%s:\n", where)
		r.Print(stdout)
		if r.Fraction() < minVerified {
			return fmt.Errorf("guidelines verify: %d of %d entries verified (%.1f%%), below the %.1f%% asked for",
				r.Verified, r.Entries, 100*r.Fraction(), 100*minVerified)
		}
		return nil
	}
	return fmt.Errorf("guidelines: unknown subcommand %q", sub)
}
