// Package judge asks a language model which rubric items a response meets.
// The evaluation suites (package evals) and the student drills (package
// drills) share it: the reply must be JSON naming only known items; a
// malformed reply is retried and, after Attempts, the grade is unscorable,
// never counted as met.
package judge

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/llm"
)

// Model is the language model that judges; *llm.Client is one.
type Model interface {
	Name() string
	Complete(ctx context.Context, system, user string, onToken func(string) error) (string, error)
}

// SchemaModel is a Model that can hold its reply to a JSON schema; the
// judge then allows only the known item IDs.
type SchemaModel interface {
	CompleteSchema(ctx context.Context, system, user string, schema json.RawMessage, maxTokens int, onToken func(string) error) (string, error)
}

// Complete asks m for a reply held to schema when m can, else for JSON.
func Complete(ctx context.Context, m Model, system, user string, schema json.RawMessage, maxTokens int) (string, error) {
	if sm, ok := m.(SchemaModel); ok {
		return sm.CompleteSchema(ctx, system, user, schema, maxTokens, nil)
	}
	return m.Complete(ctx, system, user, nil)
}

// Item is one rubric item as the judge reads it.
type Item struct {
	ID        string
	Criterion string
}

// Attempts is how many replies a judge gets to return valid JSON before the
// grade is unscorable.
const Attempts = 3

const system = `You grade a medical answer against a rubric. For each rubric item decide whether the response meets it.
Reply with JSON only, exactly of the form {"met": ["item id", ...]}, listing the ids of the items that are met and nothing else.`

// Met returns the IDs of the items the response meets, sorted. When the
// model gives no valid reply in Attempts tries, met is nil and unscorable
// says why; err is the model's own failure (unreachable, cancelled).
func Met(ctx context.Context, m Model, question, response string, items []Item) (met []string, unscorable string, err error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Question:\n%s\n\nResponse:\n%s\n\nRubric items:\n", question, response)
	known := map[string]bool{}
	for _, it := range items {
		fmt.Fprintf(&b, "- id %q: %s\n", it.ID, it.Criterion)
		known[it.ID] = true
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	schema, _ := json.Marshal(map[string]any{"type": "object", "required": []string{"met"},
		"properties": map[string]any{"met": map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": ids}}}})
	last := ""
	for range Attempts {
		reply, err := Complete(ctx, m, system, b.String(), schema, 128+48*len(items))
		if err != nil {
			if k := llm.KindOf(err); k == "" || k == llm.Unreachable {
				return nil, "", err // cancelled, or no server: the caller decides
			}
			last = "the judge's reply could not be used: " + orthocds.ErrorMessage(err)
			continue
		}
		var v struct {
			Met *[]string `json:"met"`
		}
		dec := json.NewDecoder(strings.NewReader(strings.TrimSpace(reply)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil || v.Met == nil {
			last = "the judge's reply was not the JSON asked for"
			continue
		}
		bad := ""
		for _, id := range *v.Met {
			if !known[id] {
				bad = id
			}
		}
		if bad != "" {
			last = fmt.Sprintf("the judge named an unknown rubric item %q", bad)
			continue
		}
		out := slices.Clone(*v.Met)
		slices.Sort(out)
		return slices.Compact(out), "", nil
	}
	return nil, last, nil
}
