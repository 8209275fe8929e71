package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/orthocds/orthocds/guidelines"
)

func runGuidelines(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("guidelines: give validate [DIR], stats [DIR] or list [DIR]")
	}
	var fsys fs.FS = guidelines.Embedded()
	where := "the shipped corpus"
	if len(args) > 1 {
		fsys, where = os.DirFS(args[1]), args[1]
	}
	c, err := guidelines.Load(fsys)
	if err != nil {
		return err
	}
	switch args[0] {
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
	}
	return fmt.Errorf("guidelines: unknown subcommand %q", args[0])
}
