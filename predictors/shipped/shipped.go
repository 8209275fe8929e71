// Package shipped holds the default predictor models that come with
// OrthoCDS. They are fitted on SYNTHETIC cohorts (package synth), not on
// patients, and say so wherever they are shown. Build regenerates them; a
// test checks that the embedded files are exactly what Build makes.
package shipped

import (
	"embed"
	"fmt"
	"path"
	"sort"

	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/model"
	"github.com/orthocds/orthocds/predictors/synth"
)

//go:embed models/*.json
var files embed.FS

// Settings of the shipped models. Changing any changes their hashes.
const (
	Version = "0.1.0-synthetic"
	Date    = "2026-11-25"
	Rows    = 4000
	Seed    = 1
)

// Artefacts returns the embedded models, verified by their hashes.
func Artefacts() ([]*model.Artefact, error) {
	names, err := files.ReadDir("models")
	if err != nil {
		return nil, err
	}
	var out []*model.Artefact
	for _, n := range names {
		b, err := files.ReadFile(path.Join("models", n.Name()))
		if err != nil {
			return nil, err
		}
		a, err := model.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Name(), err)
		}
		out = append(out, a)
	}
	return out, nil
}

// Build draws the synthetic cohort of def and trains its shipped model.
func Build(def predictors.Definition) (*model.Artefact, error) {
	spec, ok := synth.Specs[def.ID]
	if !ok {
		return nil, fmt.Errorf("no synthetic cohort spec for %s", def.ID)
	}
	c := synth.Generate(def, spec, Rows, Seed, 1)
	d := model.Data{Features: def.Schema.Names(), X: c.X, Y: c.Y, Groups: make([]map[string]string, len(c.Y))}
	for i, x := range c.X {
		d.Groups[i] = predictors.Groups(def.Schema, x)
	}
	a, err := predictors.Train(def, d, predictors.TrainConfig{Version: Version, Date: Date, Seed: Seed, Synthetic: true,
		Description: fmt.Sprintf("SYNTHETIC cohort of %d rows drawn by orthocds synth (seed %d); no patient data", Rows, Seed)})
	if err != nil {
		return nil, err
	}
	a.Training.Notes = Notes(def.ID)
	return a, a.Seal()
}

// Notes describe, line by line, how a predictor's synthetic cohort is made.
func Notes(id string) []string {
	spec := synth.Specs[id]
	var notes []string
	def, _ := predictors.Get(id)
	notes = append(notes, fmt.Sprintf("Outcome rate %.3f from: %s", def.BaseRate, def.BaseRateSource))
	for _, e := range spec.Effects {
		notes = append(notes, fmt.Sprintf("Effect on %s (%s): log-odds %+.3f, from %s", e.Feature, e.Kind, e.LogOR, e.Source))
	}
	var names []string
	for n := range spec.NoEffect {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		notes = append(notes, fmt.Sprintf("No simulated effect for %s: %s", n, spec.NoEffect[n]))
	}
	for _, f := range def.Schema {
		notes = append(notes, fmt.Sprintf("Input %s drawn as %s (a simulation assumption, not a measurement)", f.Name, spec.Samplers[f.Name].Assumption))
	}
	return notes
}
