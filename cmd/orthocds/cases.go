package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/guidelines"
)

// runCases lists, validates and plays the virtual patient cases.
func runCases(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	const use = `cases: use "orthocds cases list", "orthocds cases validate [DIR]" or "orthocds cases play ID [--lang zh]"`
	if len(args) == 0 {
		return errors.New(use)
	}
	corpus, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("cases "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", "en", "en or zh")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	src := cases.Embedded()
	if args[0] == "validate" && fs.NArg() == 1 {
		src = os.DirFS(fs.Arg(0))
	}
	cs, err := cases.Load(src, corpus)
	if err != nil {
		return userError(err)
	}
	switch args[0] {
	case "list":
		for _, c := range cs {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", c.ID, c.Topic, c.Title.In(*lang))
		}
	case "validate":
		fmt.Fprintf(stdout, "%d cases valid\n", len(cs))
	case "play":
		if fs.NArg() != 1 {
			return errors.New("cases play: give the case ID")
		}
		for i := range cs {
			if cs[i].ID == fs.Arg(0) {
				return play(&cs[i], *lang, stdin, stdout)
			}
		}
		return fmt.Errorf("no case %q", fs.Arg(0))
	default:
		return errors.New(use)
	}
	return nil
}

// play runs a drill in the terminal: "ask ...", "order ...", then
// "diagnosis ..." and "plan ..." and "submit".
func play(c *cases.Case, lang string, in io.Reader, out io.Writer) error {
	scope, err := analysis.Shared()
	if err != nil {
		return err
	}
	d := cases.NewDrill(c, lang)
	fmt.Fprintf(out, "%s\n%s\n(SYNTHETIC case.) Commands: ask QUESTION | order TEST | diagnosis TEXT | plan TEXT | submit\n",
		c.Title.In(lang), c.Presenting.In(lang))
	var diagnosis, plan string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cmd, rest, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch cmd {
		case "ask":
			fmt.Fprintf(out, "patient: %s\n", d.Ask(rest))
		case "order":
			rs := d.Order(rest)
			if len(rs) == 0 {
				fmt.Fprintln(out, "no such test in this case")
			}
			for _, r := range rs {
				fmt.Fprintf(out, "%s: %s\n", r.Name, r.Result)
			}
		case "diagnosis":
			diagnosis = rest
		case "plan":
			plan = rest
		case "submit":
			g := d.Submit(diagnosis, plan, scope)
			for _, it := range g.Items {
				mark := "  "
				if it.Met {
					mark = "✓ "
					if it.MustNot {
						mark = "✗ "
					}
				}
				fmt.Fprintf(out, "%s%+d %s [%s]\n", mark, it.Points, it.Criterion, strings.Join(it.Entries, ", "))
			}
			fmt.Fprintf(out, "score %d/%d (%.0f%%)\nexpected diagnosis: %s\nexpected plan: %s\nexpert: %s\n",
				g.Earned, g.Possible, g.Score*100, g.Diagnosis.In(lang), g.Expected.In(lang), g.Expert.In(lang))
			return nil
		case "":
		default:
			fmt.Fprintln(out, "commands: ask QUESTION | order TEST | diagnosis TEXT | plan TEXT | submit")
		}
	}
	return sc.Err()
}
