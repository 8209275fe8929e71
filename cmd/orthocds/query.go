package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/rag"
)

func runSearch(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	k := fs.Int("k", 5, "results per query")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("search: give one or more questions")
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	qs := make([]rag.Query, fs.NArg())
	for i, q := range fs.Args() {
		qs[i] = rag.Query{Text: q, K: *k}
	}
	res, err := a.retriever.Search(ctx, qs)
	if err != nil {
		return userError(err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	for i, hits := range res {
		fmt.Fprintf(stdout, "Q%d %s\n", i+1, qs[i].Text)
		for j, h := range hits {
			fmt.Fprintf(stdout, "  %d. [%s] %s\n     %s\n", j+1, h.DocID, h.Title, citeLine(h.Citation, h.Page))
		}
	}
	return nil
}

// citeLine says where a hit comes from: a guideline's body, year and
// section with its grade, or a document's file, section and page.
func citeLine(c rag.Citation, page int) string {
	if c.Path != "" {
		s := c.Path
		if c.Section != "" {
			s += ", " + c.Section
		}
		if page > 0 {
			s += fmt.Sprintf(", page %d", page)
		}
		return s
	}
	return fmt.Sprintf("%s %d, %s%s", c.Body, c.Year, c.Section, grade(c))
}

func grade(c rag.Citation) string {
	if c.Grade == "" {
		return ""
	}
	return "; " + c.Grade
}

func runAsk(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	asJSON := fs.Bool("json", false, "print the structured answer as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	q := strings.TrimSpace(strings.Join(fs.Args(), " "))
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	ans, err := a.answerer(nil).Ask(ctx, answer.Request{Question: q}, nil)
	if err != nil {
		return userError(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ans)
	}
	printAnswer(stdout, ans)
	return nil
}

func printAnswer(w io.Writer, a *answer.Answer) {
	fmt.Fprintf(w, "%s\n\n", a.Label)
	if a.LLMError != "" {
		fmt.Fprintf(w, "(language model: %s)\n\n", a.LLMError)
	}
	if a.Mode != answer.ModeRetrievalOnly {
		fmt.Fprintf(w, "%s %s\n", a.Summary.Text, cites(a.Summary.Citations))
	}
	for _, part := range []struct {
		name  string
		items []answer.Item
	}{{"Possible diagnoses", a.Diagnoses}, {"Tests to add", a.Tests}, {"Treatment options", a.Treatments}, {"Recommendations", a.Quotes}} {
		if len(part.items) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", part.name)
		for _, it := range part.items {
			fmt.Fprintf(w, "- %s %s\n", strings.ReplaceAll(it.Text, "\n", " "), cites(it.Citations))
		}
	}
	if len(a.Sources) > 0 {
		fmt.Fprintln(w, "\nSources:")
		for _, s := range a.Sources {
			fmt.Fprintf(w, "  [%s] %s\n", s.ID, citeLine(s.Citation, 0))
		}
	}
	fmt.Fprintf(w, "\n%s\n", a.Disclaimer)
}

func cites(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return "[" + strings.Join(ids, "; ") + "]"
}
